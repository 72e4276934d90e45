import { existsSync } from 'node:fs';
import path from 'node:path';

import { repoRoot, sharedDataDir as sharedDataDirOf } from '../../../test/support/shared-data.ts';

/** Paths the model tests share: the checkout's root, the read-only shared test data, the models folder. */
export { repoRoot };
export const sharedDataDir = sharedDataDirOf();

export const goldenDir = path.join(sharedDataDir, 'golden', 'resnet50-keras');

export const hasGoldenData = existsSync(path.join(goldenDir, 'inputs.f32')) && existsSync(path.join(goldenDir, 'expected-prob.f32'));

/** Where the tests convert (or reuse) the real model: LABELQ_MODELS_DIR or models/ in the checkout. */
export const testModelsDir = process.env['LABELQ_MODELS_DIR'] ?? path.join(repoRoot, 'models');
