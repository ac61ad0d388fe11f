#!/usr/bin/env bash
# quayside-image.sh [--print-tag]: build the quayside image from deploy/Dockerfile on the test engine,
# OFFLINE: no registry is reachable here, so
#   1. a Node.js base image is assembled from the host's own node (Node 24 LTS in CI, .ci/run), npm, their libraries and busybox
#      (laid out like the official node image: /usr/local/bin/node, /usr/local/lib/node_modules/npm),
#   2. the build context gets a copy of the host's npm cache (filled by `npm ci`), and the build runs
#      with BASE_IMAGE=<that base> and NPM_OFFLINE=true.
# Cached: the image carries a hash of everything it is built from (Dockerfile, package files,
# sources, base image) and is rebuilt only when that changes (FORCE=1 rebuilds anyway).
# The image's docker group gets the group id of the test engine's socket (DOCKER_GID), so the
# agents reach it as user 10001 with no --group-add, as on a host whose gid the image was built for.
# Prints the image tag on stdout; logs go to stderr.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=quayside-image

export DOCKER_HOST="$QS_DOCKER_HOST"   # the test engine only
export DOCKER_BUILDKIT=0               # the 28.x CLI without buildx fails with BuildKit
DOCKER=${QS_DOCKER_CLI:-docker}
BASE_TAG=${QS_NODE_BASE_IMAGE:-quayside-node-base:local}
IMAGE_TAG=${QS_QUAYSIDE_IMAGE:-quayside/quayside:local}
HASH_LABEL=org.quayside.image.content-hash
WORK="$QS_TEST_ROOT/quayside-image"

qs_docker_ping || qs_die "the test engine does not answer on $QS_DOCKER_SOCK (run engine.sh start)"

# A label of an image through the API (empty when the image or the label is missing).
image_label() {
  curl -sf --max-time 5 --unix-socket "$QS_DOCKER_SOCK" "http://localhost/images/$1/json" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const i=JSON.parse(s);process.stdout.write((i.Config.Labels||{})[process.argv[1]]||"")}catch{}})' "$2" || true
}
image_id() {
  curl -sf --max-time 5 --unix-socket "$QS_DOCKER_SOCK" "http://localhost/images/$1/json" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{process.stdout.write(JSON.parse(s).Id)}catch{}})' || true
}

# --- 1. the Node.js base image ----------------------------------------------------------------------

build_base() {
  local node npm_dir stamp root lib a t0 old
  node=$(readlink -f "$(command -v node)") || qs_die "node is not installed"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")") || qs_die "npm is not installed"
  # The base follows the host's node and npm: a new version on the host gives a new base.
  stamp="node $("$node" --version) npm $(npm --version) $(sha256sum "$node" | cut -c1-16)"
  if [[ -z ${FORCE:-} && $(image_label "$BASE_TAG" org.quayside.base.stamp) == "$stamp" ]]; then return 0; fi
  t0=$(qs_now_ms)
  root=$(mktemp -d "$QS_TEST_ROOT/node-base.XXXXXX")
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/bin" "$root/bin" \
    "$root/etc" "$root/tmp" "$root/root" "$root/home/node"
  chmod 1777 "$root/tmp"
  cp "$node" "$root/usr/local/bin/node"
  for lib in $(ldd "$node" | awk '/=>/ { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"; done
  ln -s /bin/busybox "$root/usr/bin/env"   # npm's `#!/usr/bin/env node`
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  chown 1000:1000 "$root/home/node"
  old=$(image_id "$BASE_TAG")
  tar --numeric-owner -C "$root" -c . |
    "$DOCKER" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c "LABEL org.quayside.base.stamp=\"$stamp\"" -c 'CMD ["node"]' - "$BASE_TAG" >/dev/null
  rm -rf "$root"
  [[ -z $old ]] || "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  qs_log "assembled $BASE_TAG ($stamp) in $(( $(qs_now_ms) - t0 )) ms"
}

# --- 2. the quayside image --------------------------------------------------------------------------

SOURCES=(package.json package-lock.json tsconfig.json deploy/Dockerfile cli agents shared)

socket_gid() { stat -c %g "$QS_DOCKER_SOCK"; }

# Hash of every input of the build: file names and contents, the base image, this script.
content_hash() {
  (
    cd "$QS_REPO_ROOT"
    find "${SOURCES[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    echo "base $(image_id "$BASE_TAG") docker-gid $(socket_gid)"
    sha256sum "$QS_ENV_DIR/quayside-image.sh"
  ) | sha256sum | cut -c1-32
}

build_image() {
  local hash cache context t0 old
  hash=$(content_hash)
  if [[ -z ${FORCE:-} && $(image_label "$IMAGE_TAG" "$HASH_LABEL") == "$hash" ]]; then
    qs_log "$IMAGE_TAG is up to date ($hash)"
    return 0
  fi
  t0=$(qs_now_ms)
  cache=$(npm config get cache)/_cacache
  [[ -d $cache ]] || qs_die "no npm cache at $cache: run 'npm ci' on this host first (the offline build installs from it)"
  rm -rf "$WORK"; mkdir -p "$WORK"
  context="$WORK/context"
  mkdir -p "$context/deploy/npm-cache"
  (cd "$QS_REPO_ROOT" && cp -a --parents "${SOURCES[@]}" deploy/npm-cache/README.md "$context/")
  # The lockfile may omit the tarball URLs (npm's omit-lockfile-registry-resolved): then npm asks the
  # registry for each package's metadata, which --offline cannot. Write the registry URLs in the
  # context's copy (the integrity hashes stay, so npm takes the tarballs from the cache by content).
  node -e '
    const fs = require("fs"), [file, registry] = process.argv.slice(1), lock = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const [path, entry] of Object.entries(lock.packages ?? {})) {
      if (path === "" || entry.link || entry.resolved || !entry.version || !entry.integrity) continue;
      const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      entry.resolved = new URL(`${name}/-/${name.split("/").pop()}-${entry.version}.tgz`, registry).href;
    }
    fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
  ' "$context/package-lock.json" "$(npm config get registry)"
  # Hard links when the cache is on the same filesystem: no copy of the tarballs.
  cp -al "$cache" "$context/deploy/npm-cache/_cacache" 2>/dev/null || cp -a "$cache" "$context/deploy/npm-cache/_cacache"
  old=$(image_id "$IMAGE_TAG")
  if ! "$DOCKER" build -q -f "$context/deploy/Dockerfile" \
      --build-arg "BASE_IMAGE=$BASE_TAG" --build-arg NPM_OFFLINE=true --build-arg "DOCKER_GID=$(socket_gid)" \
      --build-arg "CREATED=$(date -u +%FT%TZ)" --build-arg "REVISION=$(git -C "$QS_REPO_ROOT" rev-parse HEAD 2>/dev/null || true)" \
      --label "$HASH_LABEL=$hash" -t "$IMAGE_TAG" "$context" >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    grep -q ENOTCACHED "$WORK/build.log" &&
      qs_log "the npm cache $cache lacks a package of package-lock.json: run 'npm ci' on this host, then retry"
    qs_die "docker build failed; full log in $WORK/build.log"
  fi
  rm -rf "$context"
  # The previous build of this tag is garbage now, unless a container still runs it.
  [[ -z $old || $old == "$(image_id "$IMAGE_TAG")" ]] || "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  "$DOCKER" image prune -f --filter "label=$HASH_LABEL" >/dev/null 2>&1 || true
  qs_log "built $IMAGE_TAG ($hash) in $(( $(qs_now_ms) - t0 )) ms"
}

qs_lock quayside-image
build_base
build_image
echo "$IMAGE_TAG"
