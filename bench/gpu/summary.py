#!/usr/bin/env python3
"""Prints the GPU check's results side by side: labelq (ONNX Runtime CUDA via Node) against PyTorch.

    python3 bench/gpu/summary.py cuda-check.json [torch-baseline.json]
"""
import json
import os
import sys


def load(path: str) -> dict:
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def main() -> int:
    ours = load(sys.argv[1] if len(sys.argv) > 1 else '')
    torch = load(sys.argv[2] if len(sys.argv) > 2 else '')
    print('==================== GPU CHECK SUMMARY ====================')
    sessions = ours.get('sessions', {})
    accel = sessions.get('accelerated', {})
    print(f"mode: {ours.get('mode')}  session: requested {accel.get('requested')} -> in use {accel.get('deviceInUse')} (opened in {accel.get('openSeconds', 0):.2f} s)")
    for key, value in ours.items():
        if key.endswith('Error'):
            print(f'ERROR {key}: {value}')
    c = ours.get('correctness', {})
    if c:
        a = c['acceleratedVsCpu']
        print(f"correctness batch {c['batch']}: max|diff| {a['maxAbsDiff']:.3e} (max|out| {a['maxAbsReference']:.2f}) relL2 {a['relativeL2']:.3e} "
              f"top1 {a['top1Agreement']} run-to-run {c['acceleratedRunToRun']['maxAbsDiff']:.2e} -> max abs <= {c['toleranceMaxAbs']}: {'PASS' if c['pass'] else 'FAIL'}; "
              f"relL2 <= {c.get('toleranceRelativeL2')} and same top-1 (TF32): {'PASS' if c.get('tf32Consistent') else 'FAIL'}")
    torch_rows = {(r.get('inputs'), r['batch']): r for r in torch.get('fp32Default', [])}
    tuned_rows = {(r.get('inputs'), r['batch']): r for r in torch.get('bf16ChannelsLastBenchmark', [])}
    print(f"{'batch':>5} | {'labelq ORT ms':>13} {'img/s':>8} | {'torch fp32 host':>15} {'img/s':>8} | {'gpu-resident':>12} {'img/s':>8} | {'bf16+CL img/s':>13}")
    for row in ours.get('inference', []):
        b = row['batch']
        th = torch_rows.get(('withHostCopies', b), {})
        tg = torch_rows.get(('gpuResident', b), {})
        tt = tuned_rows.get(('gpuResident', b), {})
        print(f"{b:>5} | {row['medianMs']:>13.2f} {row['imagesPerSecond']:>8.1f} | {th.get('medianMs', float('nan')):>15.2f} {th.get('imagesPerSecond', float('nan')):>8.1f} | "
              f"{tg.get('medianMs', float('nan')):>12.2f} {tg.get('imagesPerSecond', float('nan')):>8.1f} | {tt.get('imagesPerSecond', float('nan')):>13.1f}")
    cpu = ours.get('cpuReference')
    if cpu:
        print(f"labelq CPU reference: batch {cpu['batch']}, {cpu['intraOpThreads']} threads: {cpu['imagesPerSecond']} images/s")
    for row in ours.get('preprocess', []):
        print(f"labelq preprocess (sharp, {row['inFlight']} in flight, UV_THREADPOOL_SIZE={ours.get('host', {}).get('uvThreadpoolSize')}): {row['imagesPerSecond']} images/s")
    p = ours.get('pipeline')
    if p:
        print(f"labelq in-process end to end (batch {p['batch']}, {p['images']} images): {p['imagesPerSecond']} images/s "
              f"(waited {p['waitPreprocessSeconds']} s on preprocessing, {p['inferenceSeconds']} s in session.run)")
    e = torch.get('endToEnd')
    if e:
        print(f"torch DataLoader end to end ({e['numWorkers']} workers, batch {e['batch']}, {e['images']} images): {e['imagesPerSecond']} images/s "
              f"(steady {e['steadyImagesPerSecond']}, first batch {e['firstBatchSeconds']} s)")
    if torch.get('environment'):
        env = torch['environment']
        print(f"torch {env['torch']} on {env['gpu']}, cudnn {env['cudnn']}, defaults {env['defaults']}")
    for key in ('error', 'endToEndError'):
        if key in torch:
            print(f'torch ERROR {key}: {torch[key]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
