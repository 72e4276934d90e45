import { existsSync } from 'node:fs';
import { cudaProviderLibraryPath } from '@labelq/worker/inference/session';

/** Why the GPU smoke test cannot run on this host, or undefined when it can try (the CUDA provider and a GPU exist). */
export function gpuUnavailableReason(): string | undefined {
  const provider = cudaProviderLibraryPath();
  if (!existsSync(provider)) {
    return `no CUDA execution provider: ${provider} is missing (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a host with CUDA 12 and cuDNN 9)`;
  }
  if (!existsSync('/dev/nvidiactl') && !existsSync('/dev/nvidia0')) return 'no NVIDIA GPU on this host (/dev/nvidia0 and /dev/nvidiactl are missing)';
  return undefined;
}
