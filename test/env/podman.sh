#!/usr/bin/env bash
# podman.sh start|stop|status|down
# A dedicated rootful Podman engine beside the Docker one, serving its Docker-compatible (and libpod)
# API on $QS_TEST_ROOT/podman/podman.sock: its own storage, run and tmp dirs, config files, lock
# files, events file and CNI networks, so several of these engines (one per worktree) coexist and
# none touches the host's /etc/containers, /run/libpod, /var/lib/containers or docker0.
#   start   idempotent; also imports busybox:test (the rootfs images.sh builds for Docker)
#   stop    stops the containers, then the service; storage stays
#   status  exit 0 when the service answers, 3 when it does not
#   down    stop and delete the bridges (used by down.sh; --purge there removes the storage)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=podman

CONF="$QS_PODMAN_DIR/containers.conf"
STORAGE_CONF="$QS_PODMAN_DIR/storage.conf"
NET_DIR="$QS_PODMAN_DIR/networks"
LOG="$QS_PODMAN_DIR/podman.log"
# The CLI as a remote client of our service: it then shares no state with the service (a second
# local podman on the same storage would race the service for it).
PODMAN=(podman --remote --url "$QS_PODMAN_HOST")

# Without systemd there is no healthcheck timer (tests call `podman healthcheck run`), no journald
# (log_driver k8s-file, events file). cgroupfs: there is no systemd to ask for scopes.
write_config() {
  local nofile
  # Podman's default ulimits (nofile and nproc 1048576) are above this machine's hard limits, and
  # without CAP_SYS_RESOURCE every container then fails to start (crun: setrlimit EPERM). Give the
  # containers the service's own limits: nofile as the caller has it, nproc as service_nproc pins it.
  nofile=$(ulimit -Hn)
  [[ $nofile == unlimited ]] && nofile=1048576
  mkdir -p "$QS_PODMAN_DIR"/{storage,run,tmp,cni} "$NET_DIR"
  cat > "$CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$(service_nproc):$(service_nproc)"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$QS_PODMAN_EVENTS"
# File locks live under tmp_dir; the default shm lock (/libpod_lock) is one per host and would be
# shared (and corrupted) by several engines.
lock_type = "file"
tmp_dir = "$QS_PODMAN_DIR/tmp"
# crun refuses cgroup v1 hosts with a cgroup2 mount (hybrid); runc is what dockerd uses here too.
runtime = "runc"

[network]
# CNI with our own conflists: bridge + host-local only, no firewall or portmap plugin, so nothing
# touches iptables (netavark always would).
network_backend = "cni"
cni_plugin_dirs = ["/usr/lib/cni"]
network_config_dir = "$NET_DIR"
default_network = "$QS_PODMAN_NETWORK"
default_subnet = "$(subnet_of 1)"
EOF
  cat > "$STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$QS_PODMAN_DIR/storage"
runroot = "$QS_PODMAN_DIR/run"
EOF
  write_network "$QS_PODMAN_NETWORK" 1
  write_network "$QS_PODMAN_EXTRA_NETWORK" 2
}

# subnet_of N: the Docker bridge's /24 with its third octet + N (10.235.0.1/24 -> 10.235.1.0/24
# for N=1), so each environment's Podman networks follow from its QS_BRIDGE_CIDR and never overlap.
subnet_of() {
  local cidr=${QS_BRIDGE_CIDR:-} a b c
  [[ -n $cidr ]] || cidr=$(ip -4 -o addr show dev "$QS_BRIDGE" 2>/dev/null | awk '{ print $4; exit }')
  [[ -n $cidr ]] || qs_die "no QS_BRIDGE_CIDR and bridge $QS_BRIDGE has no address (run engine.sh start first)"
  IFS=. read -r a b c _ <<< "${cidr%/*}"
  (( c + $1 <= 255 )) || qs_die "cannot derive a Podman subnet from $cidr (third octet + $1 > 255)"
  echo "$a.$b.$(( c + $1 )).0/24"
}

# write_network NAME N: a CNI conflist for a bridge named NAME on subnet_of N.
write_network() {
  local name=$1 subnet gw
  subnet=$(subnet_of "$2"); gw=${subnet%.0/24}.1
  cat > "$NET_DIR/$name.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$name",
  "plugins": [
    {
      "type": "bridge", "bridge": "$name", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$QS_PODMAN_DIR/cni",
        "routes": [{ "dst": "0.0.0.0/0" }],
        "ranges": [[{ "subnet": "$subnet", "gateway": "$gw" }]]
      }
    }
  ]
}
EOF
}

# The RLIMIT_NPROC the service runs under: podman 4.3 lowers its own to 32768 when it starts above
# that (measured here: 96362 -> 32768), so the service is started with this value set already.
service_nproc() {
  local hard
  hard=$(ulimit -Hu)
  if [[ $hard == unlimited ]] || (( hard > 32768 )); then echo 32768; else echo "$hard"; fi
}

service_pid() {
  local pid
  pid=$(qs_read_pidfile "$QS_PODMAN_PIDFILE")
  if [[ -n $pid ]] && qs_proc_is "$pid" podman && qs_proc_cmdline_has "$pid" "$QS_PODMAN_SOCK"; then
    echo "$pid"; return 0
  fi
  qs_pids_of podman "$QS_PODMAN_SOCK" | head -n1
}

# Every podman process of ours reads these (the service and the CLI alike).
podman_env() { export CONTAINERS_CONF="$CONF" CONTAINERS_STORAGE_CONF="$STORAGE_CONF"; }

cmd_start() {
  qs_podman_ping && { qs_log "podman already up ($QS_PODMAN_HOST)"; import_busybox; return 0; }
  local t0 pid
  t0=$(qs_now_ms)
  pid=$(service_pid)
  [[ -z $pid ]] || { qs_log "podman service $pid does not answer; stopping it"; qs_stop_pid "$pid" podman 10; }
  rm -f "$QS_PODMAN_SOCK"
  qs_ensure_cgroups
  write_config
  podman_env
  printf '\n==== %(%F %T)T podman.sh start ====\n' -1 >> "$LOG"
  # --time=0: the service never exits on idle. setsid and 9>&- as for dockerd (engine.sh).
  ulimit -u "$(service_nproc)"
  setsid podman --root "$QS_PODMAN_DIR/storage" --runroot "$QS_PODMAN_DIR/run" \
    --cgroup-manager cgroupfs --events-backend file \
    system service --time=0 "$QS_PODMAN_HOST" \
    </dev/null >>"$LOG" 2>&1 9>&- &
  pid=$!
  echo "$pid" > "$QS_PODMAN_PIDFILE"
  qs_wait_until 60 "podman /_ping on $QS_PODMAN_SOCK" ping_or_dead "$pid" || true
  qs_podman_ping || qs_die "podman service did not start; see $LOG"
  qs_log "podman up in $(( $(qs_now_ms) - t0 )) ms (pid $pid, network $QS_PODMAN_NETWORK $(subnet_of 1), $QS_PODMAN_HOST)"
  import_busybox
}
ping_or_dead() { qs_podman_ping || ! qs_alive "$1"; }

# busybox:test from the same rootfs as the Docker image (podman names it localhost/busybox:test;
# "busybox:test" resolves to it through both APIs).
import_busybox() {
  local tag=busybox:test root t0
  curl -sf --max-time 5 --unix-socket "$QS_PODMAN_SOCK" -o /dev/null "http://d/images/$tag/json" && return 0
  t0=$(qs_now_ms)
  root=$(mktemp -d)
  qs_busybox_rootfs "$root"
  tar --numeric-owner -C "$root" -c . | "${PODMAN[@]}" import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$tag" >/dev/null
  rm -rf "$root"
  qs_log "imported $tag in $(( $(qs_now_ms) - t0 )) ms"
}

cmd_stop() {
  local pid
  pid=$(service_pid)
  if [[ -z $pid ]]; then qs_log "podman not running"; return 0; fi
  # Containers run under conmon, not under the service: they would outlive it. Stop them as
  # dockerd stops its own.
  qs_podman_ping && { "${PODMAN[@]}" stop --all --time 2 >/dev/null 2>&1 || qs_log "podman stop --all failed"; }
  qs_stop_pid "$pid" podman 10
  # An exec's conmon lingers 5 minutes after the exec (podman 4.3's --exit-delay 300).
  for pid in $(qs_pids_of conmon "$QS_PODMAN_DIR/storage/"); do qs_stop_pid "$pid" conmon 5; done
  rm -f "$QS_PODMAN_SOCK"
  qs_log "podman stopped"
}

cmd_status() {
  if qs_podman_ping; then echo "up: pid $(service_pid), $QS_PODMAN_HOST"; return 0; fi
  echo down; return 3
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case "${1:-}" in
  start)  qs_lock podman; cmd_start ;;
  stop)   qs_lock podman; cmd_stop ;;
  status) cmd_status ;;
  down)   qs_lock podman; cmd_stop
          for br in "$QS_PODMAN_NETWORK" "$QS_PODMAN_EXTRA_NETWORK"; do
            if ip link show "$br" >/dev/null 2>&1; then ip link del "$br"; qs_log "bridge $br deleted"; fi
          done ;;
  *)      echo "usage: $0 start|stop|status|down" >&2; exit 2 ;;
esac
