#!/usr/bin/env bash
# One step of the GPU check on a lent device machine; run from the repository root (the cwd of each device call).
#
#   bash infra/gpu/device-step.sh p1        store bundle part 1 (carried as .gpu/p1) in the staging dir
#   bash infra/gpu/device-step.sh p2        ... the last part of a set also joins, checks and unpacks it,
#                                            then runs the measurements
#   bash infra/gpu/device-step.sh x1 ..     (fallback) parts of the unslimmed CUDA provider: unpacked over the
#                                            bundle, then the measurements run again
#   bash infra/gpu/device-step.sh measure   run the measurements again on a machine already set up
#
# Environment: LABELQ_GPU_STAGE (default /tmp/labelq-gpu), OUT (set by the device tool; default ./.gpu/out),
# LABELQ_GPU_CPU_ONLY=1 (local rehearsal without a GPU: cuda-check --cpu-only, no torch baseline),
# LABELQ_GPU_SKIP_TORCH=1 (no torch baseline, e.g. when rerunning after the fallback), LABELQ_GPU_NO_MEASURE=1
# (unpack only). Time limits inside: cuda-check 240 s, torch baseline 150 s.
# Results: $OUT/cuda-check.json, $OUT/torch-baseline.json, $OUT/device-log.txt, $OUT/environment.txt.
set -uo pipefail

step=${1:?usage: device-step.sh p<k>|x<k>|measure}
stage=${LABELQ_GPU_STAGE:-/tmp/labelq-gpu}
out=${OUT:-$PWD/.gpu/out}
cpu_only=${LABELQ_GPU_CPU_ONLY:-0}
repo=$PWD
root=$stage/root
mkdir -p "$out" "$stage/parts"
exec > >(tee -a "$out/device-log.txt") 2>&1

t0_ms=$(($(date +%s%N) / 1000000))
mark() { printf '=== [%6ds] %s\n' "$(( ($(date +%s%N) / 1000000 - t0_ms) / 1000 ))" "$*"; }
trap 'sleep 0.3' EXIT  # lets tee write the last lines
die() { mark "FAILED: $*"; exit 3; }

# part PREFIX K: copy one carried part into the staging dir and check its sha256 against the manifest.
store_part() {
  local prefix=$1 k=$2 dir=.gpu/$1$2 file="" sha="" size=0
  [[ -f "$dir/MANIFEST.txt" ]] || die "$dir/MANIFEST.txt is missing: was .gpu/$prefix$k named in carry?"
  read -r _ _ _ file sha size < <(awk -v p="$prefix" -v k="$k" '$1 == "part" && $2 == p && $3 == k' "$dir/MANIFEST.txt")
  [[ -n "${file:-}" ]] || die "the manifest lists no part $prefix$k"
  cp "$dir/$file" "$stage/parts/$file" || die "could not copy $dir/$file"
  [[ "$(sha256sum "$stage/parts/$file" | cut -d' ' -f1)" == "$sha" ]] || die "part $file does not match its sha256"
  cp "$dir/MANIFEST.txt" "$stage/MANIFEST.txt"
  mark "stored part $prefix$k ($file, $((size / 1048576)) MiB, sha256 ok)"
}

# unpack PREFIX: when every part of the archive is in the staging dir, join, check and unpack it into $root.
# Returns 1 (not an error) while parts are still to come.
unpack_if_complete() {
  local prefix=$1 file sha size parts missing=0 k
  read -r _ _ file sha size parts < <(awk -v p="$prefix" '$1 == "archive" && $2 == p' "$stage/MANIFEST.txt")
  for ((k = 1; k <= parts; k++)); do
    [[ -f "$stage/parts/$file.$k" ]] || { missing=1; mark "part $prefix$k of $parts not here yet"; }
  done
  if [[ $missing -eq 1 ]]; then
    if [[ "$step" == "$prefix$parts" ]]; then
      die "this is the last call of $prefix, but earlier parts are missing: the machine was fresh (given back between calls). Start again from ${prefix}1, calls back to back."
    fi
    mark "part stored; send the next part NOW (the machine goes back 30 s after a call)"
    return 1
  fi
  mark "joining $parts part(s) of $file"
  for ((k = 1; k <= parts; k++)); do cat "$stage/parts/$file.$k"; done >"$stage/$file"
  [[ "$(sha256sum "$stage/$file" | cut -d' ' -f1)" == "$sha" ]] || die "$file does not match its sha256 after joining"
  mkdir -p "$root"
  if command -v xz >/dev/null; then
    xz -d -T0 -c "$stage/$file" | tar -x -C "$root" || die "unpacking $file failed"
  else
    python3 -c 'import lzma, sys, tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1]), mode="r|").extractall(sys.argv[2])' "$stage/$file" "$root" || die "unpacking $file (python lzma) failed"
  fi
  rm -f "$stage/$file"
  mark "unpacked $file into $root ($(du -sh "$root" | cut -f1))"
}

# Links the bundle's node_modules into the repository copy and finds the CUDA 13 libraries of python3's wheels.
setup_environment() {
  [[ -x "$root/bin/node" ]] || die "$root/bin/node is missing: the bundle was not unpacked on this machine (fresh machine?)."
  for pkg in shared worker producer test; do
    mkdir -p "$root/node_modules/@labelq"
    ln -sfn "$repo/$pkg" "$root/node_modules/@labelq/$pkg"
  done
  if [[ -e node_modules && ! -L node_modules ]]; then die "$repo/node_modules exists and is not the bundle's link"; fi
  ln -sfn "$root/node_modules" node_modules
  export PATH=$root/bin:$PATH

  local libdirs="" site
  site=$(python3 -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)
  if [[ -n "$site" ]]; then
    libdirs=$(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
  fi
  [[ -d /usr/local/nvidia/lib64 ]] && libdirs=$libdirs:/usr/local/nvidia/lib64
  export LD_LIBRARY_PATH=${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16}
  {
    echo "# environment of the GPU check"
    echo "node: $(node --version) at $(command -v node)"
    echo "python3: $(command -v python3) $(python3 --version 2>&1)"
    echo "nvidia site-packages: ${site:-none}"
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    echo "UV_THREADPOOL_SIZE=$UV_THREADPOOL_SIZE  cpus=$(nproc)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv 2>&1 || echo "nvidia-smi: not available"
    echo "--- ldd of the CUDA provider (lines that are not found matter)"
    ldd "$root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so" 2>&1
    echo "--- where the dlopened libraries are"
    for lib in libcudnn.so.9 libcublasLt.so.13 libcublas.so.13 libcurand.so.10 libcudart.so.13 libnvrtc.so.13 libcuda.so.1; do
      printf '%-20s %s\n' "$lib" "$(IFS=:; for d in $LD_LIBRARY_PATH; do [[ -e $d/$lib ]] && echo "$d" && break; done; "$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF " (ldconfig)"; exit }')"
    done
  } >"$out/environment.txt" 2>&1
  cat "$out/environment.txt"
}

# Cheap facts about the machine, printed by the first call so that a surprise shows before the last one.
preflight() {
  mark "preflight"
  nvidia-smi -L 2>&1 | head -2
  echo "tools: xz=$(command -v xz || echo none) zstd=$(command -v zstd || echo none) python3=$(command -v python3 || echo none); $(nproc) cpus; $(df -h /tmp | awk 'NR == 2 { print $4 " free in /tmp" }')"
  python3 - <<'PY' 2>&1 || true
import glob, os
try:
    import nvidia
    site = os.path.dirname(list(nvidia.__path__)[0])
except Exception as error:
    raise SystemExit(f'python3 has no nvidia wheels: {error}')
for lib in ('libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcudnn.so.9', 'libnvrtc.so.13'):
    hits = glob.glob(os.path.join(site, 'nvidia', '**', lib), recursive=True)
    print(f'{lib:20} {hits[0] if hits else "NOT FOUND under " + site + "/nvidia"}')
PY
}

measure() {
  setup_environment
  local status=0
  if [[ "$cpu_only" == 1 ]]; then
    mark "cuda-check --cpu-only (local rehearsal)"
    timeout 600 node bench/gpu/cuda-check.ts --cpu-only --images "$root/images" --work "$stage/work" --out "$out/cuda-check.json" || status=$?
  else
    mark "cuda-check (ONNX Runtime CUDA provider through worker/src/inference/session.ts)"
    timeout 240 node bench/gpu/cuda-check.ts --images "$root/images" --work "$stage/work" --out "$out/cuda-check.json" || status=$?
    mark "cuda-check exit $status"
    if [[ "${LABELQ_GPU_SKIP_TORCH:-0}" == 1 ]]; then
      mark "torch baseline skipped (LABELQ_GPU_SKIP_TORCH=1)"
    else
      mark "torch baseline"
      PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/torch_baseline.py --images "$root/images" --out "$out/torch-baseline.json" || status=$((status ? status : $?))
    fi
  fi
  mark "summary"
  python3 bench/gpu/summary.py "$out/cuda-check.json" "$out/torch-baseline.json" || true
  mark "done (exit $status)"
  return "$status"
}

mark "device-step $step on $(hostname) in $repo; stage $stage"
case "$step" in
  measure) measure; exit $? ;;
  scaling)
    # Where preprocessing saturates: P processes x N images in flight (bench/gpu/preprocess-scaling.ts).
    setup_environment
    timeout 200 node bench/gpu/preprocess-scaling.ts --images "$root/images" --out "$out/preprocess-scaling.json" --seconds 4
    exit $? ;;
  p[0-9]* | x[0-9]*)
    prefix=${step:0:1}; k=${step:1}
    store_part "$prefix" "$k"
    if [[ "$prefix" == x && ! -x "$root/bin/node" ]]; then
      die "the fallback parts replace the CUDA provider of an unpacked bundle, and none is unpacked on this machine"
    fi
    if [[ "$step" == p1 ]]; then preflight; fi
    unpack_if_complete "$prefix" || exit 0
    if [[ "${LABELQ_GPU_NO_MEASURE:-0}" == 1 ]]; then mark "unpacked; measurements skipped (LABELQ_GPU_NO_MEASURE=1)"; exit 0; fi
    measure; exit $?
    ;;
  *) die "unknown step $step (p<k>, x<k> or measure)" ;;
esac
