#!/usr/bin/env bash
# up.sh: bring the whole test environment up (idempotent; well under 2 s when it is already up) and
# write $QS_TEST_ROOT/env.json, which the tests read. Prints the path of env.json on stdout.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=up

t0=$(qs_now_ms)
bash "$QS_ENV_DIR/install.sh"
bash "$QS_ENV_DIR/engine.sh" start
bash "$QS_ENV_DIR/images.sh"
bash "$QS_ENV_DIR/podman.sh" start
bash "$QS_ENV_DIR/services.sh" start

port_of() { cat "$QS_TEST_ROOT/$1/port"; }
gateway=$(ip -4 -o addr show dev "$QS_BRIDGE" | awk '{ split($4, a, "/"); print a[1]; exit }')
[[ -n $gateway ]] || qs_die "bridge $QS_BRIDGE has no IPv4 address"

# JSON.stringify does the quoting; temp file + mv, so a reader never sees a half-written file.
env_json="$QS_TEST_ROOT/env.json"
QS_GATEWAY=$gateway QS_REDIS_PORT=$(port_of redis) QS_SYSLOG_PORT=$(port_of rsyslog) \
QS_RELP_PORT=$(cat "$QS_TEST_ROOT/rsyslog/relp-port") QS_PROM_PORT=$(port_of prometheus) QS_NODE_EXPORTER_PORT=$(port_of node-exporter) QS_ENGINE_SCRIPT="$QS_ENV_DIR/engine.sh" \
QS_PODMAN_SOCK=$QS_PODMAN_SOCK QS_PODMAN_PIDFILE=$QS_PODMAN_PIDFILE QS_PODMAN_EVENTS=$QS_PODMAN_EVENTS \
QS_PODMAN_NETWORK=$QS_PODMAN_NETWORK QS_PODMAN_EXTRA_NETWORK=$QS_PODMAN_EXTRA_NETWORK QS_PODMAN_SCRIPT="$QS_ENV_DIR/podman.sh" \
QS_DOCKER_SOCK=$QS_DOCKER_SOCK QS_DOCKER_PIDFILE=$QS_DOCKER_PIDFILE QS_BRIDGE=$QS_BRIDGE \
node -e '
  const e = process.env, root = e.QS_TEST_ROOT;
  const env = {
    root,
    docker: {
      host: "unix://" + e.QS_DOCKER_SOCK, socket: e.QS_DOCKER_SOCK, pidfile: e.QS_DOCKER_PIDFILE,
      bridge: e.QS_BRIDGE, gateway: e.QS_GATEWAY, engineScript: e.QS_ENGINE_SCRIPT,
    },
    // A second engine, Podman, on its Docker-compatible socket. network: its default network (the
    // Docker API calls it "bridge"); extraNetwork: a second one, for connect/disconnect.
    podman: {
      host: "unix://" + e.QS_PODMAN_SOCK, socket: e.QS_PODMAN_SOCK, pidfile: e.QS_PODMAN_PIDFILE,
      eventsFile: e.QS_PODMAN_EVENTS, network: e.QS_PODMAN_NETWORK, extraNetwork: e.QS_PODMAN_EXTRA_NETWORK,
      engineScript: e.QS_PODMAN_SCRIPT,
    },
    images: { busybox: "busybox:test" },
    redis: { host: "127.0.0.1", port: Number(e.QS_REDIS_PORT) },
    syslog: { host: "127.0.0.1", port: Number(e.QS_SYSLOG_PORT), relpPort: Number(e.QS_RELP_PORT), receivedFile: root + "/rsyslog/received.log" },
    prometheus: { url: "http://127.0.0.1:" + e.QS_PROM_PORT, targetsDir: root + "/prometheus/targets" },
    nodeExporter: { url: "http://127.0.0.1:" + e.QS_NODE_EXPORTER_PORT },
  };
  process.stdout.write(JSON.stringify(env, null, 2) + "\n");
' > "$env_json.tmp.$$"
mv -f "$env_json.tmp.$$" "$env_json"

qs_log "environment up in $(( $(qs_now_ms) - t0 )) ms"
echo "$env_json"
