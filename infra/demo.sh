#!/usr/bin/env bash
# The quick start's first command: set up, then label real photographs end to end with the embedded defaults
# (a private redis-server, an in-process worker, records in ./labelq-out).
# LABELQ_DEMO_SOURCE picks another folder, manifest or s3:// prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
source_dir="${LABELQ_DEMO_SOURCE:-../shared/data/imagenet-sample}"
if [ ! -e "$source_dir" ]; then
  echo "No images at $source_dir: set LABELQ_DEMO_SOURCE to a folder of images." >&2
  exit 1
fi
expect=()
[ -f "$source_dir/labels.tsv" ] && expect=(--expect "$source_dir/labels.tsv")
printf '\n==> labelq label %s\n' "$source_dir" >&2
exec npx --no-install labelq label "$source_dir" --out ./labelq-out "${expect[@]}"
