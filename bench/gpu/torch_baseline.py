#!/usr/bin/env python3
"""The baseline a user would otherwise write: torchvision ResNet50 in PyTorch on the GPU.

    python3 bench/gpu/torch_baseline.py --images DIR --out torch-baseline.json [--batches 1,16,64,256]

1. inference only, fp32 as PyTorch defaults it (the TF32 settings are reported as found), model in eval mode under
   torch.inference_mode(), random init (weights=None, seed 1): input already on the GPU ("gpuResident") and input from host memory with the output copied back ("withHostCopies", like ONNX Runtime's
   session.run from Node); wall clock between torch.cuda.synchronize() calls, median ms per batch over timed runs
   after 3 warm-up runs (at least 10 runs and 2 s);
2. the same with channels_last + bf16 autocast + cudnn.benchmark, as a separate line (what a tuned user gets);
3. end to end: ImageFolder-like Dataset over the JPEGs (repeated), PIL decode + Resize(256) + CenterCrop(224) +
   ToTensor + Normalize, DataLoader(num_workers=16, batch_size=64, pin_memory=True), copy to GPU, forward.
Writes JSON after each section; prints one line per measurement.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


DEVICE = 'cuda'


def sync() -> None:
    if DEVICE == 'cuda':
        torch.cuda.synchronize()


def log(message: str) -> None:
    print(f'[torch-baseline {time.perf_counter() - START:6.1f}s] {message}', flush=True)


START = time.perf_counter()


class RepeatedJpegs(Dataset):
    """The JPEGs of a folder, repeated to `length` items, decoded and transformed as torchvision's reference does."""

    def __init__(self, folder: str, length: int):
        self.paths = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(('.jpg', '.jpeg')))
        if not self.paths:
            raise SystemExit(f'no JPEG files in {folder}')
        self.length = length
        self.transform = transforms.Compose([
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        with Image.open(self.paths[index % len(self.paths)]) as image:
            return self.transform(image.convert('RGB')), 0


def summarise(samples_ms: list[float], batch: int, warmup_ms: list[float]) -> dict:
    samples = sorted(samples_ms)
    median = statistics.median(samples)
    q = statistics.quantiles(samples, n=10) if len(samples) >= 2 else [median] * 9
    return {
        'batch': batch, 'iterations': len(samples), 'medianMs': round(median, 3), 'meanMs': round(statistics.fmean(samples), 3),
        'minMs': round(samples[0], 3), 'p10Ms': round(q[0], 3), 'p90Ms': round(q[-1], 3),
        'warmupMs': [round(v, 1) for v in warmup_ms], 'imagesPerSecond': round(batch / (median / 1000), 1),
    }


def time_inference(model, batch: int, host_copies: bool, autocast: bool, channels_last: bool, min_total_s: float) -> dict:
    generator = torch.Generator().manual_seed(1234 + batch)
    host = torch.randn(batch, 3, 224, 224, generator=generator)
    if channels_last:
        host = host.contiguous(memory_format=torch.channels_last)
    device_input = host.to(DEVICE)

    def once() -> None:
        x = host.to(DEVICE) if host_copies else device_input
        with torch.autocast(DEVICE, dtype=torch.bfloat16, enabled=autocast):
            y = model(x)
        if host_copies:
            y.float().cpu()

    warmup_ms = []
    for _ in range(3):
        start = time.perf_counter()
        once()
        sync()
        warmup_ms.append((time.perf_counter() - start) * 1000)
    samples = []
    begin = time.perf_counter()
    min_runs = 10 if DEVICE == 'cuda' else 1
    while len(samples) < 200 and (len(samples) < min_runs or time.perf_counter() - begin < min_total_s):
        sync()
        start = time.perf_counter()
        once()
        sync()
        samples.append((time.perf_counter() - start) * 1000)
    return summarise(samples, batch, warmup_ms)


def end_to_end(model, folder: str, images: int, batch: int, workers: int) -> dict:
    loader = DataLoader(RepeatedJpegs(folder, images), batch_size=batch, num_workers=workers, pin_memory=DEVICE == 'cuda', shuffle=False)
    start = time.perf_counter()
    first_batch_s = None
    seen = 0
    with torch.inference_mode():
        for x, _ in loader:
            y = model(x.to(DEVICE, non_blocking=True))
            seen += x.shape[0]
            if first_batch_s is None:
                sync()
                first_batch_s = time.perf_counter() - start
                after_first = seen
        y.float().cpu()
    sync()
    total_s = time.perf_counter() - start
    steady = (seen - after_first) / (total_s - first_batch_s) if total_s > first_batch_s else float('nan')
    return {'images': seen, 'batch': batch, 'numWorkers': workers, 'pinMemory': DEVICE == 'cuda', 'seconds': round(total_s, 3),
            'imagesPerSecond': round(seen / total_s, 1), 'firstBatchSeconds': round(first_batch_s, 3),
            'steadyImagesPerSecond': round(steady, 1)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--images', required=True)
    parser.add_argument('--out', default='torch-baseline.json')
    parser.add_argument('--batches', default='1,16,64,256')
    parser.add_argument('--e2e-images', type=int, default=4096)
    parser.add_argument('--workers', type=int, default=16)
    parser.add_argument('--e2e-batch', type=int, default=64)
    parser.add_argument('--min-seconds', type=float, default=2.0, help='least timed seconds per measurement')
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'], help='cpu: local rehearsal of the code paths only')
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    batches = [int(b) for b in args.batches.split(',')]
    results: dict = {'startedAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}

    def save() -> None:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)

    if DEVICE == 'cuda' and not torch.cuda.is_available():
        results['error'] = 'torch.cuda.is_available() is False'
        save()
        log(results['error'])
        return 1
    results['environment'] = {
        'torch': torch.__version__, 'torchvision': torchvision.__version__, 'cuda': torch.version.cuda,
        'cudnn': torch.backends.cudnn.version(), 'gpu': torch.cuda.get_device_name(0) if DEVICE == 'cuda' else 'cpu rehearsal', 'cpus': os.cpu_count(),
        'defaults': {'matmulAllowTf32': torch.backends.cuda.matmul.allow_tf32, 'cudnnAllowTf32': torch.backends.cudnn.allow_tf32,
                     'cudnnBenchmark': torch.backends.cudnn.benchmark, 'float32MatmulPrecision': torch.get_float32_matmul_precision()},
    }
    log(f"{results['environment']}")
    torch.manual_seed(1)
    model = torchvision.models.resnet50(weights=None).to(DEVICE).eval()
    save()

    for name, options in (('fp32Default', dict(autocast=False, channels_last=False)),
                          ('bf16ChannelsLastBenchmark', dict(autocast=True, channels_last=True))):
        rows = []
        results[name] = rows
        if options['channels_last']:
            torch.backends.cudnn.benchmark = True
            model = model.to(memory_format=torch.channels_last)
        for host_copies in (False, True):
            for batch in batches:
                try:
                    with torch.inference_mode():
                        row = time_inference(model, batch, host_copies, min_total_s=args.min_seconds, **options)
                except Exception as error:  # noqa: BLE001 - record and go on (an out-of-memory at one size, say)
                    row = {'batch': batch, 'error': repr(error)}
                row['inputs'] = 'withHostCopies' if host_copies else 'gpuResident'
                rows.append(row)
                log(f"{name} {row['inputs']} batch {batch}: {row.get('medianMs')} ms/batch, {row.get('imagesPerSecond')} images/s {row.get('error', '')}")
                save()
    torch.backends.cudnn.benchmark = False
    model = model.to(memory_format=torch.contiguous_format)

    try:
        results['endToEnd'] = end_to_end(model, args.images, args.e2e_images, args.e2e_batch, args.workers)
        log(f"end to end (DataLoader {args.workers} workers, batch {args.e2e_batch}, fp32): {results['endToEnd']}")
    except Exception as error:  # noqa: BLE001
        results['endToEndError'] = repr(error)
        log(f'end to end FAILED: {error!r}')
    results['finishedAt'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    save()
    return 0


if __name__ == '__main__':
    sys.exit(main())
