#!/usr/bin/env bash
# images.sh: build the test images on the test engine, offline (there is no registry to pull from).
#   busybox:test  static busybox with every applet linked in /bin, /tmp (1777), root and nobody users.
# Idempotent: an image that exists is left alone (FORCE=1 rebuilds).
# The docker CLI is `${QS_DOCKER_CLI:-docker}`; both Debian's 20.10 and a newer 28.x client work.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=images

# Every docker command here talks to the test engine only.
export DOCKER_HOST="$QS_DOCKER_HOST"
DOCKER=${QS_DOCKER_CLI:-docker}

qs_docker_ping || qs_die "the test engine does not answer on $QS_DOCKER_SOCK (run engine.sh start)"

# Existence check through the API: much faster than starting the CLI.
image_exists() {
  [[ -z ${FORCE:-} ]] &&
    curl -sf --max-time 5 --unix-socket "$QS_DOCKER_SOCK" -o /dev/null "http://localhost/images/$1/json"
}

build_busybox() {
  local tag=busybox:test root t0 old
  image_exists "$tag" && return 0
  t0=$(qs_now_ms)
  root=$(mktemp -d); trap 'rm -rf "$root"' RETURN
  qs_busybox_rootfs "$root"
  old=$(curl -sf --unix-socket "$QS_DOCKER_SOCK" "http://localhost/images/$tag/json" | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).Id)}catch{}})' || true)
  tar --numeric-owner -C "$root" -c . |
    "$DOCKER" import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$tag" >/dev/null
  # A forced rebuild leaves the previous image untagged; drop it unless containers still use it.
  [[ -z $old ]] || "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  qs_log "built $tag in $(( $(qs_now_ms) - t0 )) ms"
}

build_busybox
