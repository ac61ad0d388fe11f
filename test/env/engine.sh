#!/usr/bin/env bash
# engine.sh start|stop|restart|status|down
# A dedicated Docker engine for the tests: its own socket, data-root, exec-root, pidfile and bridge,
# so tests never use or disturb a host engine on /var/run/docker.sock.
#   start    idempotent; recovers from a previous engine that was killed (-9)
#   stop     SIGTERM, wait (SIGKILL after 20 s); the data-root is kept, so containers survive
#   restart  stop + start (containers with restart policies come back)
#   status   prints the state; exit 0 when the engine answers, 3 when it does not
#   down     stop and also delete the bridge (used by down.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=engine

DATA_ROOT="$QS_DOCKER_DIR/data"
LOG="$QS_DOCKER_DIR/dockerd.log"
DRIVER_FILE="$QS_DOCKER_DIR/storage-driver"   # the driver that worked first; the data-root needs it
CONFIG_FILE="$QS_DOCKER_DIR/daemon.json"       # empty config, so a host /etc/docker/daemon.json can't leak in

# The exec-root holds unix sockets (containerd.sock.ttrpc, libnetwork/<id>.sock) and sun_path is
# limited to 108 bytes. Keep it under the test root while that is short, else use a short /run path.
EXEC_ROOT="$QS_DOCKER_DIR/run"
if (( ${#EXEC_ROOT} > 48 )); then
  EXEC_ROOT="/run/qs-docker-$(printf '%s' "$QS_TEST_ROOT" | cksum | cut -d' ' -f1)"
fi
(( ${#QS_DOCKER_SOCK} < 100 )) || qs_die "QS_TEST_ROOT is too long for a unix socket path: $QS_DOCKER_SOCK"

# Subnets for the bridge, first one that overlaps no existing route or address wins.
# QS_BRIDGE_CIDR pins one (several engines side by side take one each, and 10.213–10.228 are tried).
if [[ -n ${QS_BRIDGE_CIDR:-} ]]; then
  BRIDGE_CANDIDATES=("$QS_BRIDGE_CIDR")
else
  BRIDGE_CANDIDATES=()
  for octet in $(seq 213 228); do BRIDGE_CANDIDATES+=("10.$octet.0.1/24"); done
  BRIDGE_CANDIDATES+=(172.29.213.1/24 192.168.213.1/24)
fi

# --- processes of this engine (found by our own socket/exec-root path, never by name alone) -------

dockerd_pid() {
  local pid
  pid=$(qs_read_pidfile "$QS_DOCKER_PIDFILE")
  if [[ -n $pid ]] && qs_proc_is "$pid" dockerd && qs_proc_cmdline_has "$pid" "$QS_DOCKER_SOCK"; then
    echo "$pid"; return 0
  fi
  qs_pids_of dockerd "$QS_DOCKER_SOCK" | head -n1
}

containerd_pids() { qs_pids_of containerd "$EXEC_ROOT/containerd/"; }

# --- bridge ----------------------------------------------------------------------------------------

# shellcheck disable=SC2086  # split a.b.c.d on the dots
ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }

# cidr_overlap A/LEN B/LEN: the two prefixes share at least one address.
cidr_overlap() {
  local a=${1%/*} al=32 b=${2%/*} bl=32
  [[ $1 == */* ]] && al=${1#*/}
  [[ $2 == */* ]] && bl=${2#*/}
  local len=$(( al < bl ? al : bl ))
  local mask=$(( len == 0 ? 0 : (0xffffffff << (32 - len)) & 0xffffffff ))
  (( ($(ip2int "$a") & mask) == ($(ip2int "$b") & mask) ))
}

# Every IPv4 prefix in use on this host (routes of all tables and interface addresses), except the
# default route and our own bridge.
used_prefixes() {
  ip -4 -o route show table all | awk -v br="$QS_BRIDGE" '
    $0 ~ ("dev " br "( |$)") { next }
    { d = $1 }
    d ~ /^(unicast|local|broadcast|multicast|throw|unreachable|prohibit|blackhole|nat|anycast)$/ { d = $2 }
    d != "default" && d != "0.0.0.0/0" { print d }'
  ip -4 -o addr show | awk -v br="$QS_BRIDGE" '$2 != br { print $4 }'
}

bridge_cidr() { { ip -4 -o addr show dev "$QS_BRIDGE" 2>/dev/null || true; } | awk '{ print $4; exit }'; }

ensure_bridge() {
  ip link show "$QS_BRIDGE" >/dev/null 2>&1 || ip link add "$QS_BRIDGE" type bridge
  if [[ -z $(bridge_cidr) ]]; then
    local used cand u ok=""
    used=$(used_prefixes)
    for cand in "${BRIDGE_CANDIDATES[@]}"; do
      ok=$cand
      for u in $used; do
        if cidr_overlap "$cand" "$u"; then ok=""; break; fi
      done
      [[ -n $ok ]] && break
    done
    [[ -n $ok ]] || qs_die "every bridge candidate (${BRIDGE_CANDIDATES[*]}) overlaps an existing route"
    qs_log "bridge $QS_BRIDGE gets $ok"
    ip addr add "$ok" dev "$QS_BRIDGE"
  fi
  ip link set "$QS_BRIDGE" up
}

# --- stale state -----------------------------------------------------------------------------------

# Mounts left under the exec-root (the nsfs of netns/default, container netns) when dockerd died.
umount_exec_root() {
  local m
  # Deepest first; mountinfo field 5 is the mount point.
  for m in $(awk -v r="$EXEC_ROOT/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || qs_log "could not unmount $m"
  done
}

# dockerd bind-mounts the data-root onto itself (to make it a private mount) and leaves that mount
# behind when it exits; without it a plain `rm -rf $QS_TEST_ROOT` works after `stop`.
umount_data_root_bind() {
  awk -v r="$DATA_ROOT" '$5 == r && $4 != "/" && substr(r, length(r) - length($4) + 1) == $4 { found = 1 }
    END { exit !found }' /proc/self/mountinfo || return 0
  umount "$DATA_ROOT" 2>/dev/null || umount -l "$DATA_ROOT" || qs_log "could not unmount $DATA_ROOT"
}

# Only called while no dockerd of ours runs.
cleanup_stale() {
  local pid gw kids
  for pid in $(containerd_pids); do
    qs_log "killing leftover containerd $pid of this engine"
    qs_stop_pid "$pid" containerd 5
  done
  # Containers of a killed engine keep running under their shims. Kill them (init first: that ends
  # its whole pid namespace), so that the next dockerd finds them dead, as after a reboot, and applies
  # the restart policies. Left running, dockerd would stop them itself at start-up and mark them
  # "manually stopped", so `unless-stopped` containers would not come back.
  for pid in $(qs_pids_of containerd-shim "-address $EXEC_ROOT/containerd/containerd.sock"); do
    qs_log "killing leftover containerd-shim $pid and its container processes"
    mapfile -t kids < <(qs_children "$pid")
    ((${#kids[@]} == 0)) || kill -KILL "${kids[@]}" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  # docker-proxy processes of published ports outlive a killed dockerd and keep the host ports.
  gw=$(bridge_cidr); gw=${gw%/*}
  if [[ -n $gw ]]; then
    for pid in $(qs_pids_of docker-proxy "-container-ip ${gw%.*}."); do
      qs_log "killing leftover docker-proxy $pid"
      qs_stop_pid "$pid" docker-proxy 5
    done
  fi
  umount_exec_root
  umount_data_root_bind
  # dockerd reuses a containerd whose pidfile names a live pid; a killed one may linger as a zombie
  # (pid 1 here reaps slowly), and then dockerd waits 15 s for it and gives up.
  rm -f "$QS_DOCKER_PIDFILE" "$QS_DOCKER_SOCK" "$EXEC_ROOT/containerd/containerd.pid"
}

# --- commands --------------------------------------------------------------------------------------

start_dockerd() { # DRIVER -> 0 when /_ping answers
  local driver=$1 pid
  printf '\n==== %(%F %T)T engine.sh start (storage driver %s) ====\n' -1 "$driver" >> "$LOG"
  # setsid: not in the caller's process group, so a Ctrl-C of the test runner does not stop it.
  # 9>&-: do not inherit the engine lock.
  # --init: tini (docker-init) is PID 1 of every container unless it asks for Init=false. A busybox
  # `sleep`/`sh` as PID 1 ignores SIGTERM, so without it every `stop` of the engine (and every
  # `docker stop`) waits the full 10 s stop timeout per container before SIGKILL.
  setsid dockerd \
    --host "$QS_DOCKER_HOST" \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$QS_DOCKER_PIDFILE" \
    --config-file "$CONFIG_FILE" \
    --bridge "$QS_BRIDGE" --iptables=false --ip-masq=false \
    --storage-driver "$driver" \
    --cgroup-parent "$QS_CGROUP_PARENT" \
    --init \
    </dev/null >>"$LOG" 2>&1 9>&- &
  pid=$!
  # Ready when /_ping answers; give up early if dockerd exits.
  qs_wait_until 60 "dockerd /_ping on $QS_DOCKER_SOCK" ping_or_dead "$pid" || true
  qs_docker_ping
}
ping_or_dead() { qs_docker_ping || ! qs_alive "$1"; }

cmd_start() {
  qs_docker_ping && { qs_log "engine already up ($QS_DOCKER_HOST)"; return 0; }
  local t0 pid driver
  t0=$(qs_now_ms)
  mkdir -p "$QS_DOCKER_DIR" "$DATA_ROOT" "$EXEC_ROOT"

  # A dockerd of ours that does not answer (still starting, or hung): give it a moment, then replace it.
  pid=$(dockerd_pid)
  if [[ -n $pid ]]; then
    if qs_wait_until 10 "running dockerd $pid to answer" qs_docker_ping; then
      qs_log "engine up (dockerd $pid was starting)"; return 0
    fi
    qs_log "dockerd $pid does not answer; stopping it"
    qs_stop_pid "$pid" dockerd 20
  fi

  cleanup_stale
  qs_ensure_cgroups
  ensure_bridge
  [[ -s $CONFIG_FILE ]] || echo '{}' > "$CONFIG_FILE"

  if [[ -s $DRIVER_FILE ]]; then
    driver=$(<"$DRIVER_FILE")
    start_dockerd "$driver" || qs_die "dockerd did not start; see $LOG"
  else
    local log_start
    log_start=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    if start_dockerd overlay2; then
      driver=overlay2
    else
      # overlay2 can fail on some filesystems (no d_type, overlay on overlay); vfs works everywhere,
      # slowly. Fall back only when the graph driver is what failed.
      tail -c +"$((log_start + 1))" "$LOG" | grep -q 'error initializing graphdriver' ||
        qs_die "dockerd did not start; see $LOG"
      qs_log "dockerd failed with overlay2; trying vfs (see $LOG)"
      pid=$(dockerd_pid); [[ -z $pid ]] || qs_stop_pid "$pid" dockerd 20
      cleanup_stale
      start_dockerd vfs || qs_die "dockerd did not start with overlay2 nor vfs; see $LOG"
      driver=vfs
    fi
  fi
  echo "$driver" > "$DRIVER_FILE"
  qs_log "engine up in $(( $(qs_now_ms) - t0 )) ms (pid $(dockerd_pid), $driver, bridge $QS_BRIDGE $(bridge_cidr), $QS_DOCKER_HOST)"
}

cmd_stop() {
  local pid t0
  t0=$(qs_now_ms)
  pid=$(dockerd_pid)
  if [[ -n $pid ]]; then
    # dockerd stops its containers (restart policies stay, so they come back on start).
    qs_stop_pid "$pid" dockerd 20
    qs_log "engine stopped in $(( $(qs_now_ms) - t0 )) ms"
  else
    qs_log "engine not running"
  fi
  cleanup_stale
}

cmd_status() {
  local pid
  pid=$(dockerd_pid)
  if qs_docker_ping; then
    echo "up: pid $pid, $QS_DOCKER_HOST, bridge $QS_BRIDGE $(bridge_cidr), data-root $DATA_ROOT, exec-root $EXEC_ROOT"
    return 0
  fi
  if [[ -n $pid ]]; then echo "not answering: dockerd pid $pid exists"; else echo "down"; fi
  return 3
}

# Sourcing the file (for example to test a function) defines everything but runs nothing.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case "${1:-}" in
  start)   qs_lock engine; cmd_start ;;
  stop)    qs_lock engine; cmd_stop ;;
  restart) qs_lock engine; cmd_stop; cmd_start ;;
  status)  cmd_status ;;
  down)    qs_lock engine; cmd_stop
           if ip link show "$QS_BRIDGE" >/dev/null 2>&1; then ip link del "$QS_BRIDGE"; qs_log "bridge $QS_BRIDGE deleted"; fi ;;
  *)       echo "usage: $0 start|stop|restart|status|down" >&2; exit 2 ;;
esac
