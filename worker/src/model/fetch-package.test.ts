import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';
import { fetchResnetPackage, resnetPackage } from './fetch-package.ts';

const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-fetch-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe('fetchResnetPackage', () => {
  it('refuses a cached tarball whose sha256 is not the published one, naming both', async () => {
    const tarball = path.join(cacheDir, resnetPackage.tarballName);
    await writeFile(tarball, 'not the package');
    const error = await fetchResnetPackage({ cacheDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabelqError);
    expect((error as LabelqError).code).toBe('MODEL_FETCH_FAILED');
    expect((error as LabelqError).message).toContain(tarball);
    expect((error as LabelqError).message).toContain(`not the expected ${resnetPackage.sha256}`);
    expect((error as LabelqError).message).toMatch(/Delete it to fetch it again/);
  });
});
