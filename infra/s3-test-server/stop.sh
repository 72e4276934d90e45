#!/usr/bin/env bash
# Stops what infra/s3-test-server/start.sh started in <data-dir>: every process named by <data-dir>/run/*.pid.
# SIGTERM first, SIGKILL after S3_TEST_SERVER_STOP_TIMEOUT_S (default 10). Data stays; delete the dir to drop it.
#
#   infra/s3-test-server/stop.sh <data-dir>
set -euo pipefail

# Alive = exists and is not a zombie (an unreaped zombie still answers kill -0).
alive() { local stat; stat="$(cat /proc/"$1"/stat 2>/dev/null)" && [[ "${stat##*) }" != Z* ]]; }
fail() { echo "s3-test-server: $*" >&2; exit 1; }
[[ $# -eq 1 && -n "$1" ]] || fail "usage: stop.sh <data-dir>"
[[ -d "$1" ]] || { echo "s3-test-server: nothing to stop: $1 does not exist" >&2; exit 0; }
DATA="$(cd "$1" && pwd)"
RUN="$DATA/run"
STOP_TIMEOUT_S="${S3_TEST_SERVER_STOP_TIMEOUT_S:-10}"

# A pid file names our process only if that pid still runs the program we launched (pids get reused).
ours() { # name pid
  local cmdline
  cmdline="$(tr '\0' ' ' </proc/"$2"/cmdline 2>/dev/null)" || return 1
  if [[ "$1" == memcached ]]; then [[ "$cmdline" == *memcached* ]]
  elif [[ "$1" == object-updater ]]; then [[ "$cmdline" == *"$DATA/etc/object-server.conf"* ]]
  else [[ "$cmdline" == *"$DATA/etc/$1.conf"* ]]; fi
}


declare -A pids=()
for pidfile in "$RUN"/*.pid; do
  [[ -e "$pidfile" ]] || continue
  name="$(basename "$pidfile" .pid)"
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && ours "$name" "$pid"; then
    pids[$name]=$pid
    kill -TERM "$pid" 2>/dev/null || true
  else
    rm -f "$pidfile"
  fi
done
[[ ${#pids[@]} -gt 0 ]] || { echo "s3-test-server: nothing running in $DATA" >&2; exit 0; }

deadline=$(( $(date +%s%3N) + STOP_TIMEOUT_S * 1000 ))
while :; do
  remaining=()
  for name in "${!pids[@]}"; do alive "${pids[$name]}" && remaining+=("$name"); done
  [[ ${#remaining[@]} -gt 0 && $(date +%s%3N) -lt $deadline ]] || break
  sleep 0.05
done
for name in "${remaining[@]}"; do
  echo "s3-test-server: $name (pid ${pids[$name]}) ignored SIGTERM for ${STOP_TIMEOUT_S}s; sending SIGKILL" >&2
  kill -KILL "${pids[$name]}" 2>/dev/null || true
done
for name in "${!pids[@]}"; do
  while alive "${pids[$name]}"; do sleep 0.05; done # a killed process needs a moment to go
  rm -f "$RUN/$name.pid"
done
rm -f "$RUN/s3.env"
echo "s3-test-server: stopped ${!pids[*]} in $DATA" >&2
