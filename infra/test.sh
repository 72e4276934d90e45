#!/usr/bin/env bash
# The quick start's second command (npm test): set up everything the tests need, then lint, type-check and run
# the whole suite on real services (Redis and an S3 server started by the test harness on loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh --test
export PATH="$PWD/node_modules/.bin:$PATH"
printf '\n==> lint\n' >&2
eslint .
printf '\n==> type check\n' >&2
tsc --noEmit -p tsconfig.json
printf '\n==> tests\n' >&2
mkdir -p .test-artifacts
status=0
vitest run --reporter=default --reporter=json --outputFile.json=.test-artifacts/vitest.json "$@" || status=$?
node infra/summarise-tests.ts .test-artifacts/vitest.json || status=1
exit $status
