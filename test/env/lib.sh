# shellcheck shell=bash disable=SC2034  # the variables set here are used by the scripts that source it
# Shared settings and helpers for the quayside test environment.
# Sourced by the other scripts in test/env/; it is not meant to be run on its own.

# Directory of these scripts and the repository root, wherever the caller's cwd is.
QS_ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QS_REPO_ROOT=$(cd "$QS_ENV_DIR/../.." && pwd)

# Everything the environment creates lives under one root, so one `down.sh --purge` removes it.
export QS_TEST_ROOT="${QS_TEST_ROOT:-/var/tmp/quayside-test}"

# dockerd, rsyslogd and ip live in sbin; a CI shell's PATH may not have it.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="/usr/local/sbin:/usr/sbin:/sbin:$PATH" ;; esac
export PATH

# Background jobs must be plain children (no job control), so that `setsid cmd &` runs cmd itself
# and $! is its pid.
set +m

# Layout of the dedicated test engine (engine.sh owns it; up.sh and images.sh read it).
QS_DOCKER_DIR="$QS_TEST_ROOT/docker"
QS_DOCKER_SOCK="$QS_DOCKER_DIR/docker.sock"
QS_DOCKER_HOST="unix://$QS_DOCKER_SOCK"
QS_DOCKER_PIDFILE="$QS_DOCKER_DIR/docker.pid"
# Overridable so that several engines (one per parallel worktree) can run side by side; the
# bridge name is at most 15 characters.
QS_BRIDGE="${QS_BRIDGE:-qsbr0}"
QS_CGROUP_PARENT="${QS_CGROUP_PARENT:-/quayside-test}"

# Layout of the Podman engine beside it (podman.sh owns it). Its networks (CNI bridges) are named
# after QS_BRIDGE, so several environments coexist: qsbr0 -> qsbr0p (default) and qsbr0x (extra).
QS_PODMAN_DIR="$QS_TEST_ROOT/podman"
QS_PODMAN_SOCK="$QS_PODMAN_DIR/podman.sock"
QS_PODMAN_HOST="unix://$QS_PODMAN_SOCK"
QS_PODMAN_PIDFILE="$QS_PODMAN_DIR/podman.pid"
QS_PODMAN_EVENTS="$QS_PODMAN_DIR/events.log"
QS_PODMAN_NETWORK="${QS_BRIDGE}p"
QS_PODMAN_EXTRA_NETWORK="${QS_BRIDGE}x"

# Log to stderr, so stdout stays free for results (up.sh prints only the env.json path there).
qs_log() { printf '[%(%H:%M:%S)T %s] %s\n' -1 "${QS_LOG_TAG:-qs-env}" "$*" >&2; }
qs_die() { qs_log "ERROR: $*"; exit 1; }

# Milliseconds since the epoch, without forking `date`.
qs_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# qs_wait_until TIMEOUT_SECONDS DESCRIPTION CMD [ARGS...]
# Polls CMD every 50 ms until it succeeds; returns 1 (after logging) when the timeout passes.
qs_wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$(( $(qs_now_ms) + timeout * 1000 ))
  until "$@"; do
    if (( $(qs_now_ms) > deadline )); then
      qs_log "timed out after ${timeout}s waiting for: $what"
      return 1
    fi
    sleep 0.05
  done
}

# qs_free_port [udp]
# Prints a TCP port on 127.0.0.1 that is free right now (the kernel picks it: listen on port 0).
# With "udp", the same port number must also be free for UDP (rsyslog listens on both).
qs_free_port() {
  node -e '
    const net = require("net"), dgram = require("dgram");
    const wantUdp = process.argv[1] === "udp";
    function attempt(n) {
      if (n === 0) { console.error("no free port found"); process.exit(1); }
      const srv = net.createServer();
      srv.listen(0, "127.0.0.1", () => {
        const port = srv.address().port;
        if (!wantUdp) { srv.close(() => console.log(port)); return; }
        const sock = dgram.createSocket("udp4");
        sock.once("error", () => { sock.close(); srv.close(() => attempt(n - 1)); });
        sock.bind(port, "127.0.0.1", () => sock.close(() => srv.close(() => console.log(port))));
      });
    }
    attempt(20);
  ' "${1:-tcp}"
}

# qs_proc_is PID NAME: the process is alive (a zombie is not) and its command name (comm) is NAME.
qs_proc_is() {
  local stat
  [[ -n ${1:-} && -r /proc/$1/stat ]] && IFS= read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
  # /proc/PID/stat is "PID (COMM) STATE ..."; COMM may contain spaces and parentheses.
  [[ ${stat#*\(} == "$2) "* && ${stat##*) } != Z* ]]
}

# qs_alive PID: the process exists and is not a zombie (whatever it runs: right after `cmd &` the
# child may still be bash or setsid, before it execs cmd).
qs_alive() {
  local stat
  [[ -r /proc/$1/stat ]] && IFS= read -r stat 2>/dev/null < "/proc/$1/stat" && [[ ${stat##*) } != Z* ]]
}

# qs_proc_cmdline_has PID STRING: STRING occurs in the process's argument list.
qs_proc_cmdline_has() {
  local -a args
  [[ -r /proc/$1/cmdline ]] || return 1
  mapfile -d '' args 2>/dev/null < "/proc/$1/cmdline" || return 1
  [[ " ${args[*]} " == *"$2"* ]]
}

# qs_pids_of NAME STRING: pids whose comm is NAME and whose arguments contain STRING.
# Used to find processes of *our* engine (identified by a path only it uses), never by name alone.
qs_pids_of() {
  local f pid
  for f in /proc/[0-9]*/stat; do
    pid=${f#/proc/}; pid=${pid%/stat}
    qs_proc_is "$pid" "$1" && qs_proc_cmdline_has "$pid" "$2" && echo "$pid"
  done
  return 0
}

# qs_children PID: pids whose parent is PID.
qs_children() {
  local parent=$1 f stat rest
  for f in /proc/[0-9]*/stat; do
    IFS= read -r stat 2>/dev/null < "$f" || continue
    rest=${stat##*) }          # "STATE PPID ..."
    rest=${rest#* }            # "PPID ..."
    [[ ${rest%% *} == "$parent" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
  return 0
}

# qs_read_pidfile FILE: prints the pid stored in FILE (nothing if missing or garbage).
qs_read_pidfile() {
  local pid=""
  if [[ -r $1 ]]; then IFS= read -r pid < "$1" || true; fi
  [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
  return 0
}

# qs_stop_pid PID NAME [TIMEOUT_S]: SIGTERM, wait, then SIGKILL. Only if PID really is NAME.
qs_stop_pid() {
  local pid=$1 name=$2 timeout=${3:-10}
  qs_proc_is "$pid" "$name" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! qs_wait_until "$timeout" "$name ($pid) to exit" qs_not_running "$pid" "$name"; then
    qs_log "sending SIGKILL to $name ($pid)"
    kill -KILL "$pid" 2>/dev/null || true
    qs_wait_until 5 "$name ($pid) to die" qs_not_running "$pid" "$name" || true
  fi
}
qs_not_running() { ! qs_proc_is "$1" "$2"; }

# qs_listener_pid PROTO PORT PID: PID has a socket bound on 127.0.0.1:PORT (PROTO is t or u).
qs_listener_pid() {
  ss -Hln"$1"p "sport = :$2" 2>/dev/null | grep -q "pid=$3,"
}

# qs_ensure_cgroups: dockerd needs the cgroup hierarchy mounted. Machines without systemd may
# have none. Mount cgroup v1 controllers the way Debian's cgroupfs-mount does.
qs_ensure_cgroups() {
  [[ -e /sys/fs/cgroup/memory || -e /sys/fs/cgroup/cgroup.controllers ]] && return 0
  if command -v cgroupfs-mount >/dev/null; then
    cgroupfs-mount
  else
    qs_log "mounting cgroup v1 controllers under /sys/fs/cgroup"
    mountpoint -q /sys/fs/cgroup || mount -t tmpfs -o uid=0,gid=0,mode=0755 cgroup /sys/fs/cgroup
    local sys
    for sys in $(awk '!/^#/ && $4 == 1 { print $1 }' /proc/cgroups); do
      mkdir -p "/sys/fs/cgroup/$sys"
      mountpoint -q "/sys/fs/cgroup/$sys" || mount -n -t cgroup -o "$sys" cgroup "/sys/fs/cgroup/$sys" || true
    done
  fi
  [[ -e /sys/fs/cgroup/memory || -e /sys/fs/cgroup/cgroup.controllers ]] ||
    qs_die "cgroups are not mounted and could not be mounted; dockerd cannot run containers"
}

# qs_lock NAME: serialise concurrent callers of one script (tests may call engine.sh in parallel).
# Uses fd 9; every daemon we spawn gets `9>&-` so it does not inherit (and hold) the lock.
qs_lock() {
  mkdir -p "$QS_TEST_ROOT"
  exec 9>"$QS_TEST_ROOT/.$1.lock"
  flock -w 120 9 || qs_die "could not get the $1 lock within 120 s"
}

# qs_podman_ping: the Podman engine answers on its own socket.
qs_podman_ping() {
  [[ -S $QS_PODMAN_SOCK ]] &&
    [[ $(curl -sf --max-time 2 --unix-socket "$QS_PODMAN_SOCK" http://localhost/_ping 2>/dev/null) == OK ]]
}

# qs_busybox_rootfs DIR: fills DIR with the busybox:test root filesystem (both engines import it):
# static busybox with every applet linked in /bin, /tmp (1777), root and nobody users.
qs_busybox_rootfs() {
  local root=$1 bb a
  bb=$(command -v busybox) || qs_die "busybox is not installed (run install.sh)"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  # Links for every applet, so `rm`, `touch`, `wget`, `nc` … work in `docker exec` too.
  for a in $("$root/bin/busybox" --list); do
    [[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
}

# qs_docker_ping: the test engine answers on its own socket (never /var/run/docker.sock).
qs_docker_ping() {
  [[ -S $QS_DOCKER_SOCK ]] &&
    [[ $(curl -sf --max-time 2 --unix-socket "$QS_DOCKER_SOCK" http://localhost/_ping 2>/dev/null) == OK ]]
}
