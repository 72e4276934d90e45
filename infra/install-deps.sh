#!/usr/bin/env bash
# Installs the Debian packages labelq's tests and demo need, only those missing. Idempotent; when all are
# present it checks and exits (well under a second) without touching apt.
#
#   infra/install-deps.sh [--check] [redis] [s3] [compose] [browser]
#
# Groups (default: all):
#   redis    redis-server                       (private Redis for tests and `labelq label`)
#   s3       swift swift-proxy swift-account swift-container swift-object python3-swift memcached
#            (the S3-compatible test server: infra/s3-test-server/)
#   compose  docker-compose                     (offline validation of the compose file: docker-compose config -q)
#   browser  chromium                           (headless browser for the dashboard test, driven by playwright-core)
# --check: install nothing; list what is missing and exit 1 if anything is.
#
# Needs root or sudo. Post-install scripts would try to start the services: a temporary
# /usr/sbin/policy-rc.d that exits 101 keeps them quiet (removed afterwards unless it was there before).
set -euo pipefail

declare -A group_packages=(
  [redis]="redis-server"
  [s3]="swift swift-proxy swift-account swift-container swift-object python3-swift memcached"
  [compose]="docker-compose"
  [browser]="chromium"
)
# A program each package must provide: a package can be "installed" per dpkg yet broken or half-removed.
declare -A package_program=(
  [redis-server]=/usr/bin/redis-server
  [swift]=/usr/bin/swift-ring-builder
  [swift-proxy]=/usr/bin/swift-proxy-server
  [swift-account]=/usr/bin/swift-account-server
  [swift-container]=/usr/bin/swift-container-server
  [swift-object]=/usr/bin/swift-object-server
  [python3-swift]=/usr/lib/python3/dist-packages/swift/common/middleware/s3api/s3api.py
  [memcached]=/usr/bin/memcached
  [docker-compose]=/usr/bin/docker-compose
  [chromium]=/usr/bin/chromium
)

say() { echo "install-deps: $*" >&2; }

check_only=false
groups=()
for arg in "$@"; do
  case "$arg" in
    --check) check_only=true ;;
    redis | s3 | compose | browser) groups+=("$arg") ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument \"$arg\" (expected --check, redis, s3, compose or browser)"; exit 2 ;;
  esac
done
[[ ${#groups[@]} -gt 0 ]] || groups=(redis s3 compose browser)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  say "this script installs Debian packages with apt-get, which this system lacks; install by other means: ${groups[*]}"
  exit 1
fi

wanted=()
for group in "${groups[@]}"; do read -r -a packages <<<"${group_packages[$group]}"; wanted+=("${packages[@]}"); done

# One dpkg-query for all packages: "name install ok installed" for each one that is installed.
installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true)"
missing=()
for package in "${wanted[@]}"; do
  if ! grep -qx "$package install ok installed" <<<"$installed" || [[ ! -e "${package_program[$package]}" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  say "all present (${wanted[*]}); nothing to do"
  exit 0
fi
if $check_only; then
  say "missing: ${missing[*]}"
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
  as_root=(sudo)
else
  say "missing: ${missing[*]}. Installing them needs root: run this script as root or with passwordless sudo, or run:"
  say "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  exit 1
fi

policy=/usr/sbin/policy-rc.d
made_policy=false
remove_policy() { if $made_policy; then "${as_root[@]}" rm -f "$policy"; fi; }
trap remove_policy EXIT
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# Temporary, from labelq infra/install-deps.sh: no service starts during package installs.\nexit 101\n' |
    "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  made_policy=true
fi

say "installing: ${missing[*]}"
started=$(date +%s)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
say "installed ${missing[*]} in $(( $(date +%s) - started )) s"
