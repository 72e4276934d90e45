#!/usr/bin/env python3
"""Zero the payloads of the GPU machine-code images in a shared library's .nv_fatbin section that are not for the
kept SM architectures (default: 90, the H100/H200), leaving every header, size and offset as it was.

Why: libonnxruntime_providers_cuda.so holds SASS for sm_75/80/86/89/90/120, already compressed by nvcc, so xz
cannot shrink it (230 MB -> 164 MB). A device picks only images of its own major architecture (SASS of another
major version cannot run there) and this fatbin carries no PTX to JIT from, so on an sm_90 card only the sm_90
images are ever read. Zeroed payloads compress to almost nothing. The layout is unchanged, so the ELF and the
registration structures that point into the section stay valid.

Usage: slim-fatbin.py IN OUT [--keep 90,...]   (prints what it kept and zeroed; refuses anything it does not
recognise: a PTX entry, an unknown entry kind, or a section that does not parse to its end)
"""
import argparse
import collections
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX, KIND_ELF = 1, 2


def section(data: bytes, wanted: str) -> tuple[int, int]:
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        raise SystemExit('not a 64-bit little-endian ELF file')
    e_shoff, = struct.unpack_from('<Q', data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from('<HHH', data, 0x3A)
    headers = [struct.unpack_from('<IIQQQQIIQQ', data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    names_offset = headers[e_shstrndx][4]
    for sh in headers:
        start = names_offset + sh[0]
        if data[start:data.index(b'\0', start)].decode() == wanted:
            return sh[4], sh[5]
    raise SystemExit(f'no {wanted} section')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('input')
    parser.add_argument('output')
    parser.add_argument('--keep', default='90', help='comma-separated SM architectures to keep, e.g. 90 or 80,90')
    args = parser.parse_args()
    keep = {int(a) for a in args.keep.split(',')}
    data = bytearray(open(args.input, 'rb').read())
    offset, size = section(data, '.nv_fatbin')
    end = offset + size
    kept, zeroed = collections.Counter(), collections.Counter()
    pos, fatbins = offset, 0
    while pos < end:
        magic, _version, header_size, fat_size = struct.unpack_from('<IHHQ', data, pos)
        if magic != FATBIN_MAGIC:
            # alignment padding between fatbins is zero-filled
            if any(data[pos:pos + 8]):
                raise SystemExit(f'unexpected bytes at offset {pos} inside .nv_fatbin')
            pos += 8
            continue
        fatbins += 1
        entry, fat_end = pos + header_size, pos + header_size + fat_size
        while entry < fat_end:
            kind, _u1, entry_header_size, payload_size = struct.unpack_from('<HHIQ', data, entry)
            arch, = struct.unpack_from('<I', data, entry + 28)
            if kind != KIND_ELF:
                raise SystemExit(f'entry kind {kind} (PTX or unknown) at offset {entry}: refusing to touch it')
            payload = entry + entry_header_size
            if payload + payload_size > fat_end:
                raise SystemExit(f'entry at offset {entry} runs past its fatbin')
            if arch in keep:
                kept[arch] += payload_size
            else:
                data[payload:payload + payload_size] = bytes(payload_size)
                zeroed[arch] += payload_size
            entry = payload + payload_size
        if entry != fat_end:
            raise SystemExit(f'fatbin at offset {pos} does not end where its header says')
        pos = fat_end
    if not kept:
        raise SystemExit(f'no images for SM {sorted(keep)} found: refusing to write a library that cannot run')
    open(args.output, 'wb').write(data)
    mib = lambda c: {f'sm_{a}': round(v / 2**20, 1) for a, v in sorted(c.items())}
    print(f'{fatbins} fatbins; kept MiB {mib(kept)}; zeroed MiB {mib(zeroed)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
