#!/usr/bin/env bash
# demo.sh: bring the test environment up, start three sample containers on the test engine, then run
# every quayside agent against it in the foreground (Ctrl-C stops it). Run after `npm run build`
# (`npm run demo` does both). The port is ${QUAYSIDE_DEMO_PORT:-9477} on 127.0.0.1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=demo

bash "$QS_ENV_DIR/up.sh" >/dev/null
export DOCKER_HOST="$QS_DOCKER_HOST"   # the demo only ever talks to the test engine
PORT=${QUAYSIDE_DEMO_PORT:-9477}
LABEL=quayside.demo=1

# A re-run starts from the same three containers, not from leftovers of the last run.
mapfile -t old < <(docker ps -aq --filter "label=$LABEL")
((${#old[@]} == 0)) || docker rm -f "${old[@]}" >/dev/null

# 1. a long-running sleeper (trap: it stops at once on SIGTERM)
docker run -d --name qs-demo-sleeper --label "$LABEL" --label com.example.role=sleeper \
  busybox:test sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
# 2. a 2 s healthcheck; healthy for 20 s, then unhealthy for 10 s, over and over, so health_status
#    events keep coming (no --health-start-period=0s: docker 20.10 rejects it)
docker run -d --name qs-demo-health --label "$LABEL" --label com.example.role=web \
  --health-cmd 'test -f /tmp/healthy' --health-interval 2s --health-timeout 1s --health-retries 1 \
  busybox:test sh -c 'trap "exit 0" TERM; while :; do touch /tmp/healthy; sleep 20; rm -f /tmp/healthy; sleep 10; done' >/dev/null
# 3. a crash loop: exits with code 3 every 5 s and is restarted (die/start events, restart count)
docker run -d --name qs-demo-crashloop --label "$LABEL" --label com.example.role=worker --restart always \
  busybox:test sh -c 'sleep 5; exit 3' >/dev/null

cat >&2 <<MSG

quayside demo: 3 containers labelled $LABEL run on the test engine ($DOCKER_HOST):
  qs-demo-sleeper, qs-demo-health (healthcheck flips every 20/10 s), qs-demo-crashloop (exit 3 every 5 s)
In another terminal:
  curl -s http://127.0.0.1:$PORT/healthz
  curl -s http://127.0.0.1:$PORT/readyz
  curl -s http://127.0.0.1:$PORT/metrics            # quayside_*, and container_* of the stats-exporter
  curl -s http://127.0.0.1:$PORT/findings           # label-inspector findings
  DOCKER_HOST=$DOCKER_HOST npx quayside events --sync     # live normalized events
  DOCKER_HOST=$DOCKER_HOST docker ps --filter label=$LABEL
Starting the agents (Ctrl-C to stop; \`bash test/env/down.sh\` stops the environment).

MSG

cd "$QS_REPO_ROOT"
exec node dist/cli/main.js all --listen "127.0.0.1:$PORT" --log-format text
