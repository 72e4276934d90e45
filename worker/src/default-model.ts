import { resolve } from 'node:path';
import type { Config } from '@labelq/shared/config';

/** The labelq checkout (or image) root: two folders above worker/src. */
export const installRoot = resolve(import.meta.dirname, '../..');

/** Where `labelq model fetch` writes and workers look by default: LABELQ_MODELS_DIR, else models/ in the checkout. */
export function modelsDirOf(config: Pick<Config, 'modelsDir'>): string {
  return config.modelsDir === undefined ? resolve(installRoot, 'models') : resolve(config.modelsDir);
}

/** The model card a worker loads: LABELQ_MODEL / --model (relative to the current folder), else the converted ResNet50. */
export function modelCardPathOf(config: Pick<Config, 'modelCard' | 'modelsDir'>): string {
  return config.modelCard === undefined ? resolve(modelsDirOf(config), 'resnet50-keras.json') : resolve(config.modelCard);
}
