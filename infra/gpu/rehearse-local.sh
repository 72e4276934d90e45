#!/usr/bin/env bash
# Rehearses the device calls here, without a GPU: a copy of the working tree (what a device call sends) plus the
# .gpu parts, run through infra/gpu/device-step.sh exactly as on the device, with only the bundle's node and
# node_modules (a clean PATH: no repo node_modules, no system node first), then checks that
#   - the parts joined and unpacked byte-identically to .gpu/build/root,
#   - cuda-check --cpu-only ran end to end (every module the check imports is in the bundle),
#   - opening with device 'cuda' got as far as the missing CUDA libraries (the provider files are in place).
#
#   bash infra/gpu/rehearse-local.sh        (after infra/gpu/make-bundle.sh; takes a few minutes on 2 cores)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/labelq-gpu-rehearsal.XXXXXX)
echo "rehearsal in $tmp"
mkdir -p "$tmp/repo/.gpu" "$tmp/out"
(cd "$repo" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$tmp/repo"
[[ ! -e "$tmp/repo/node_modules" ]] || { echo "node_modules travelled with the working tree" >&2; exit 1; }
for d in "$repo"/.gpu/p[0-9]* "$repo"/.gpu/x[0-9]*; do
  if [[ -d "$d" ]]; then cp -r "$d" "$tmp/repo/.gpu/"; fi
done

step() {
  (cd "$tmp/repo" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp" OUT="$tmp/out" LABELQ_GPU_STAGE="$tmp/stage" \
    LABELQ_GPU_CPU_ONLY=1 LABELQ_GPU_NO_MEASURE="${2:-0}" bash infra/gpu/device-step.sh "$1")
}

parts=$(awk '$1 == "archive" && $2 == "p" { print $6 }' "$repo/.gpu/MANIFEST.txt")
for ((k = 1; k <= parts; k++)); do step "p$k"; done

echo "--- checks"
diff -r --no-dereference -x @labelq "$repo/.gpu/build/root" "$tmp/stage/root" && echo "unpacked tree is identical to .gpu/build/root"
echo "cuda probe: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("cudaProbe"))' "$tmp/out/cuda-check.json")"
if grep -q 'libcublas' "$tmp/out/device-log.txt"; then
  echo "OK: opening with 'cuda' failed on the missing CUDA libraries (libcublas...), so ONNX Runtime found the provider files:"
  grep -o '[^ ]*libonnxruntime_providers_cuda.so with error: [^.]*\.so[^ ]*' "$tmp/out/device-log.txt" | head -1
else
  echo "UNEXPECTED: the cuda probe did not fail on libcublas; see $tmp/out/device-log.txt" >&2
  exit 1
fi

xparts=$(awk '$1 == "archive" && $2 == "x" { print $6 }' "$repo/.gpu/MANIFEST.txt")
if [[ -n "$xparts" ]]; then
  for ((k = 1; k <= xparts; k++)); do step "x$k" 1; done
  cmp "$tmp/stage/root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so" \
    "$repo/.gpu/build/fallback-root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so" \
    && echo "fallback parts replaced the CUDA provider with the full one"
fi
echo "rehearsal passed (results and log in $tmp/out)"
