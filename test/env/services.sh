#!/usr/bin/env bash
# services.sh start|stop|status [redis|rsyslog|prometheus|node-exporter ...]
# Real backends for the agents, each on 127.0.0.1 and on a port chosen free at start (other programs
# on this machine may hold the default ports). State lives in $QS_TEST_ROOT/<service>/:
#   pid, port, the server's log, its config and data.
# start is idempotent: a service still running from an earlier start that answers keeps its port.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=services

ALL=(redis rsyslog prometheus node-exporter)
# COMM is the kernel's 15-character process name.
declare -A COMM=([redis]=redis-server [rsyslog]=rsyslogd [prometheus]=prometheus [node-exporter]=prometheus-node)

svc_dir()  { echo "$QS_TEST_ROOT/$1"; }
svc_pid()  { qs_read_pidfile "$(svc_dir "$1")/pid"; }
svc_port() { local p=""; [[ -r $(svc_dir "$1")/port ]] && p=$(<"$(svc_dir "$1")/port"); [[ $p =~ ^[0-9]+$ ]] && echo "$p"; return 0; }

# --- readiness checks (NAME PORT) -------------------------------------------------------------------

ready_redis() { [[ $(redis-cli -h 127.0.0.1 -p "$2" ping 2>/dev/null) == PONG ]]; }
ready_rsyslog() { # listening on TCP and UDP, and RELP on its own port, by our process
  local relp; relp=$(cat "$(svc_dir rsyslog)/relp-port" 2>/dev/null || true)
  qs_listener_pid t "$2" "$3" && qs_listener_pid u "$2" "$3" && [[ -n $relp ]] && qs_listener_pid t "$relp" "$3"
}
ready_prometheus() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$2/-/ready"; }
ready_node-exporter() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$2/metrics"; }

# svc_ready NAME PORT PID
svc_ready() { qs_proc_is "$3" "${COMM[$1]}" && "ready_$1" "$1" "$2" "$3"; }

# --- launchers (NAME DIR PORT); each runs the server in the foreground, detached with setsid --------

launch_redis() {
  local d=$2 port=$3
  # No persistence: tests want an empty, fast store.
  setsid redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --protected-mode yes \
    --daemonize no --dir "$d" --logfile "$d/redis.log" \
    </dev/null >>"$d/redis.log" 2>&1 9>&- &
}

launch_rsyslog() {
  local d=$2 port=$3 relp_port
  mkdir -p "$d/work"
  : >> "$d/received.log"
  # RELP (imrelp, Debian package rsyslog-relp) on a second free TCP port, for relp:// routes.
  relp_port=$(qs_free_port); echo "$relp_port" > "$d/relp-port"
  # No imuxsock: this rsyslogd must not take /dev/log from the host's syslog.
  # One JSON line per received message: the tests read it (test/support/rsyslog.ts).
  cat > "$d/rsyslog.conf" <<EOF
global(workDirectory="$d/work" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
module(load="imrelp")
template(name="received" type="string" string="{\"rcv\":\"%timegenerated:::date-rfc3339%\",\"from\":\"%fromhost-ip%\",\"pri\":%pri%,\"host\":\"%hostname:::json%\",\"app\":\"%app-name:::json%\",\"tag\":\"%syslogtag:::json%\",\"msg\":\"%msg:::json%\"}\n")
ruleset(name="remote") { action(type="omfile" file="$d/received.log" template="received") }
input(type="imudp" address="127.0.0.1" port="$port" ruleset="remote")
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="remote")
input(type="imrelp" address="127.0.0.1" port="$relp_port" ruleset="remote")
EOF
  rsyslogd -N1 -f "$d/rsyslog.conf" >>"$d/rsyslogd.log" 2>&1 || qs_die "invalid rsyslog config; see $d/rsyslogd.log"
  # -n: stay in the foreground (we track the pid); -i: its own pidfile, not the host's.
  setsid rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" </dev/null >>"$d/rsyslogd.log" 2>&1 9>&- &
}

launch_prometheus() {
  local d=$2 port=$3
  mkdir -p "$d/targets" "$d/data"
  # Tests register scrape targets by dropping JSON files into targets/; re-read every second.
  cat > "$d/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: quayside
    file_sd_configs:
      - files: ['$d/targets/*.json']
        refresh_interval: 1s
EOF
  setsid prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
    --storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle \
    </dev/null >>"$d/prometheus.log" 2>&1 9>&- &
}

launch_node-exporter() {
  local d=$2 port=$3
  # Beside the stats-exporter as the public dashboards deploy it (dockprom, swarmprom); tests add it
  # to Prometheus with a target file when they need it.
  setsid prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
    </dev/null >>"$d/node-exporter.log" 2>&1 9>&- &
}

# --- commands --------------------------------------------------------------------------------------

start_one() {
  local name=$1 d pid port attempt t0
  d=$(svc_dir "$name"); mkdir -p "$d"
  pid=$(svc_pid "$name"); port=$(svc_port "$name")
  if [[ -n $pid && -n $port ]] && svc_ready "$name" "$port" "$pid"; then
    return 0   # still up from an earlier start: keep it and its port
  fi
  stop_one "$name"
  t0=$(qs_now_ms)
  # The free port can be taken between choosing and binding; then try again with another one.
  for attempt in 1 2 3; do
    if [[ $name == rsyslog ]]; then port=$(qs_free_port udp); else port=$(qs_free_port); fi
    "launch_$name" "$name" "$d" "$port"
    pid=$!
    echo "$pid" > "$d/pid"
    echo "$port" > "$d/port"
    if qs_wait_until 30 "$name on 127.0.0.1:$port" ready_or_dead "$name" "$port" "$pid" &&
       svc_ready "$name" "$port" "$pid"; then
      qs_log "$name ready on 127.0.0.1:$port in $(( $(qs_now_ms) - t0 )) ms (pid $pid)"
      return 0
    fi
    qs_log "$name did not come up on port $port (attempt $attempt); see $d"
    stop_one "$name"
  done
  qs_die "$name failed to start; logs in $d"
}
ready_or_dead() { svc_ready "$1" "$2" "$3" || ! qs_alive "$3"; }

stop_one() {
  local name=$1 pid
  pid=$(svc_pid "$name")
  if [[ -n $pid ]] && qs_proc_is "$pid" "${COMM[$name]}"; then
    qs_stop_pid "$pid" "${COMM[$name]}" 10
    qs_log "$name stopped (pid $pid)"
  fi
  rm -f "$(svc_dir "$name")/pid" "$(svc_dir "$name")/port" "$(svc_dir "$name")/relp-port"
}

status_one() {
  local name=$1 pid port
  pid=$(svc_pid "$name"); port=$(svc_port "$name")
  if [[ -n $pid && -n $port ]] && svc_ready "$name" "$port" "$pid"; then
    echo "$name: up on 127.0.0.1:$port (pid $pid)"
  else
    echo "$name: down"; return 3
  fi
}

cmd=${1:-}; shift || true
names=("$@"); ((${#names[@]})) || names=("${ALL[@]}")
for n in "${names[@]}"; do [[ -n ${COMM[$n]:-} ]] || qs_die "unknown service: $n (known: ${ALL[*]})"; done

case "$cmd" in
  start)  qs_lock services; for n in "${names[@]}"; do start_one "$n"; done ;;
  stop)   qs_lock services; for n in "${names[@]}"; do stop_one "$n"; done ;;
  status) rc=0; for n in "${names[@]}"; do status_one "$n" || rc=3; done; exit "$rc" ;;
  *)      echo "usage: $0 start|stop|status [${ALL[*]}]" >&2; exit 2 ;;
esac
