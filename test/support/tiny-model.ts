import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildModelCard } from '@labelq/worker/model/card-presets';
import { fileSha256 } from '@labelq/worker/model/file-sha256';
import { readImagenetClasses } from '@labelq/worker/model/imagenet-classes';
import { writeTinyCnn } from '@labelq/worker/model/tiny-cnn';

/**
 * A few-kilobyte CNN (conv, ReLU, global average pool, fully connected: 224x224x3 in, 1000 logits out) and its
 * model card, for tests where the labels do not matter but the whole path must run: fetch, decode and crop with
 * sharp, the batcher, the inference thread and ONNX Runtime. Labels are meaningless. Returns the card's path.
 */
export async function writeTinyModel(dir: string): Promise<string> {
  const onnxFile = 'tiny-cnn-224.onnx';
  const onnxPath = join(dir, onnxFile);
  await writeTinyCnn(onnxPath, { size: 224, classes: 1000, inputName: 'input', outputName: 'logits' });
  const card = buildModelCard({
    name: 'tiny-cnn-224',
    file: onnxFile,
    sha256: await fileSha256(onnxPath),
    inputName: 'input',
    outputName: 'logits',
    outputKind: 'logits',
    style: 'torchvision',
    labels: await readImagenetClasses(),
    source: { generator: 'test/support/tiny-model.ts', weights: 'seeded random, not trained: labels are meaningless' },
  });
  const cardPath = join(dir, 'tiny-cnn-224.json');
  await writeFile(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  return cardPath;
}
