#!/usr/bin/env bash
# down.sh [--purge]: stop the services and the test engines (Docker, Podman), and delete their
# bridges. Installed packages stay. The data-root stays too (images and containers come back with up.sh), unless
# --purge is given: then all of $QS_TEST_ROOT is removed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=down

bash "$QS_ENV_DIR/services.sh" stop
bash "$QS_ENV_DIR/podman.sh" down
bash "$QS_ENV_DIR/engine.sh" down
rm -f "$QS_TEST_ROOT/env.json"

if [[ ${1:-} == --purge && -d $QS_TEST_ROOT ]]; then
  # dockerd leaves mounts behind (its data-root bind mount, a killed container's shm): unmount
  # everything under the root first, deepest first, so rm does not hit busy mounts.
  for m in $(awk -v r="$QS_TEST_ROOT/" 'index($5, r) == 1 || $5 == substr(r, 1, length(r) - 1) { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf "$QS_TEST_ROOT"
  qs_log "removed $QS_TEST_ROOT"
fi
