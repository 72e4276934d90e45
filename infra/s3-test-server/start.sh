#!/usr/bin/env bash
# Starts a single-node OpenStack Swift with the s3api middleware: an S3-compatible server for tests and the demo.
#
#   infra/s3-test-server/start.sh <data-dir> [port]
#
# port: the S3 endpoint's port on 127.0.0.1; 0 or absent = a free one. The account, container and object
# servers and memcached get free loopback ports of their own. Everything lives under <data-dir>:
#   etc/  rendered configs, swift.conf, rings          srv/d1/  the one storage device (objects persist)
#   run/  pid files, s3.env (endpoint + credentials)   log/     one log file per process (no syslog)
# Credentials: access key "test:tester", secret "testing", region us-east-1 (path-style addressing).
# On success the last line of stdout is the endpoint URL; run/s3.env can be sourced (set -a; . run/s3.env).
# Stop with infra/s3-test-server/stop.sh <data-dir>. Restarting on the same data dir keeps every object.
#
# Environment: S3_TEST_SERVER_READY_TIMEOUT_S (default 60; about 3 s on an idle 2-core machine), S3_TEST_SERVER_LOG_LEVEL
# (default INFO), S3_TEST_SERVER_UPDATER_INTERVAL_S (default 0 = no object-updater; N = replay failed container
# updates every N s: tests that stop and restart the server need it; each sweep costs about a second of CPU).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON=/usr/bin/python3 # Swift's own interpreter (Debian's), whatever python3 is first on PATH
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside these scripts in the checkout
ACCESS_KEY='test:tester'
SECRET_KEY='testing'
REGION='us-east-1'
READY_TIMEOUT_S="${S3_TEST_SERVER_READY_TIMEOUT_S:-60}"
LOG_LEVEL="${S3_TEST_SERVER_LOG_LEVEL:-INFO}"
UPDATER_INTERVAL_S="${S3_TEST_SERVER_UPDATER_INTERVAL_S:-0}"
[[ "$UPDATER_INTERVAL_S" =~ ^[0-9]+$ ]] || { echo "s3-test-server: S3_TEST_SERVER_UPDATER_INTERVAL_S must be a whole number of seconds, not \"$UPDATER_INTERVAL_S\"" >&2; exit 1; }
SERVERS=(account-server container-server object-server proxy-server)

# Alive = exists and is not a zombie (an unreaped zombie still answers kill -0).
alive() { local stat; stat="$(cat /proc/"$1"/stat 2>/dev/null)" && [[ "${stat##*) }" != Z* ]]; }
fail() { echo "s3-test-server: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || fail "usage: start.sh <data-dir> [port]"
[[ -n "$1" ]] || fail "the data dir argument is empty"
mkdir -p "$1" || fail "cannot create the data dir $1"
DATA="$(cd "$1" && pwd)"
PORT="${2:-0}"
[[ "$PORT" =~ ^[0-9]+$ && "$PORT" -le 65535 ]] || fail "port must be a number from 0 to 65535, got \"$PORT\""

missing=()
for bin in "$PYTHON" swift-ring-builder memcached; do command -v "$bin" >/dev/null || missing+=("$bin"); done
[[ -f /usr/lib/python3/dist-packages/swift/common/middleware/s3api/s3api.py ]] || missing+=("python3-swift (s3api)")
[[ ${#missing[@]} -eq 0 ]] || fail "missing: ${missing[*]}. Install them with infra/install-deps.sh (Debian packages swift swift-proxy swift-account swift-container swift-object python3-swift memcached)."

RUN="$DATA/run"
mkdir -p "$DATA/etc" "$DATA/srv/d1" "$RUN" "$DATA/log"

# Refuse to start twice on one data dir; forget pid files of processes that are gone.
alive=()
for pidfile in "$RUN"/*.pid; do
  [[ -e "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then
    alive+=("$(basename "$pidfile" .pid)=$pid")
  else
    rm -f "$pidfile"
  fi
done
[[ ${#alive[@]} -eq 0 ]] || fail "already running in $DATA (${alive[*]}); stop it first with: $HERE/stop.sh $DATA"

if [[ "$PORT" == 0 ]]; then
  read -r PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT MEMCACHED_PORT <<<"$("$PYTHON" "$HERE/swift_helper.py" free-ports 5)"
else
  "$PYTHON" "$HERE/swift_helper.py" port-free "$PORT" || fail "port $PORT on 127.0.0.1 is already in use; pick another or pass 0 for a free one"
  read -r ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT MEMCACHED_PORT <<<"$("$PYTHON" "$HERE/swift_helper.py" free-ports 4)"
fi

render() { # template -> $DATA/etc/<same name>
  local escaped_data
  escaped_data="$(printf '%s' "$DATA" | sed 's/[&|\\]/\\&/g')"
  sed -e "s|@DATA_DIR@|$escaped_data|g" -e "s|@USER@|$(id -un)|g" -e "s|@LOG_LEVEL@|$LOG_LEVEL|g" \
      -e "s|@UPDATER_INTERVAL_S@|$(( UPDATER_INTERVAL_S > 0 ? UPDATER_INTERVAL_S : 30 ))|g" \
      -e "s|@REGION@|$REGION|g" -e "s|@PROXY_PORT@|$PORT|g" -e "s|@ACCOUNT_PORT@|$ACCOUNT_PORT|g" \
      -e "s|@CONTAINER_PORT@|$CONTAINER_PORT|g" -e "s|@OBJECT_PORT@|$OBJECT_PORT|g" \
      -e "s|@MEMCACHED_PORT@|$MEMCACHED_PORT|g" -e "s|@HASH_SUFFIX@|$HASH_SUFFIX|g" \
      "$HERE/templates/$1" >"$DATA/etc/$1"
}
# The hash path suffix decides where objects live on disk: keep the first one this data dir got.
if [[ -f "$DATA/etc/hash-suffix" ]]; then HASH_SUFFIX="$(cat "$DATA/etc/hash-suffix")"
else HASH_SUFFIX="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; echo "$HASH_SUFFIX" >"$DATA/etc/hash-suffix"; fi
for template in swift.conf proxy-server.conf account-server.conf container-server.conf object-server.conf; do
  render "$template"
done
"$PYTHON" "$HERE/swift_helper.py" build-rings "$DATA/etc" "$ACCOUNT_PORT" "$CONTAINER_PORT" "$OBJECT_PORT"

started=0
cleanup_on_failure() {
  [[ $started == 1 ]] || return 0
  echo "s3-test-server: start failed; last log lines:" >&2
  for log in "$DATA"/log/*.log; do [[ -s "$log" ]] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }; done
  "$HERE/stop.sh" "$DATA" >&2 || true
}
trap cleanup_on_failure EXIT

launch() { # name, command... : runs it detached with its output in log/<name>.log and its pid in run/<name>.pid
  local name="$1"; shift
  nohup "$@" >>"$DATA/log/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}
started=1
begin_ms=$(date +%s%3N)
memcached_user=()
[[ $(id -u) == 0 ]] && memcached_user=(-u "$(id -un)") # memcached refuses to run as root without -u
launch memcached memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -t 1 "${memcached_user[@]}"
for server in "${SERVERS[@]}"; do
  launch "$server" "$PYTHON" "$HERE/run_server.py" "${server%-server}" "$DATA/etc/$server.conf" -v
done
# Replays container updates that failed while a server was down (objects would otherwise be missing from listings).
# Only where asked for: Swift's updater forks a sweep every interval, about a second of CPU each.
(( UPDATER_INTERVAL_S == 0 )) || launch object-updater "$PYTHON" "$HERE/run_server.py" object-updater "$DATA/etc/object-server.conf" -v

if ! "$PYTHON" "$HERE/swift_helper.py" wait-ready "$PORT" "$ACCOUNT_PORT $CONTAINER_PORT $OBJECT_PORT" \
    "$ACCESS_KEY" "$SECRET_KEY" "$REGION" "$READY_TIMEOUT_S" >&2; then
  exit 1
fi
ready_ms=$(( $(date +%s%3N) - begin_ms ))

ENDPOINT="http://127.0.0.1:$PORT"
cat >"$RUN/s3.env" <<EOF
# S3 test server started by infra/s3-test-server/start.sh (well-known test credentials)
S3_ENDPOINT=$ENDPOINT
AWS_REGION=$REGION
S3_FORCE_PATH_STYLE=true
S3_CHECKSUM_MODE=WHEN_REQUIRED
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
started=0
trap - EXIT
echo "s3-test-server: ready in ${ready_ms} ms at $ENDPOINT (data $DATA; backends $ACCOUNT_PORT/$CONTAINER_PORT/$OBJECT_PORT, memcached $MEMCACHED_PORT)" >&2
echo "$ENDPOINT"
