import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';
import type { ModelCard } from '@labelq/shared/model-card';
import { buildModelCard } from './card-presets.ts';
import { checkModelAgainstCard } from './check-card.ts';
import { fileSha256 } from './file-sha256.ts';
import { readImagenetClasses } from './imagenet-classes.ts';
import { writeTinyCnn } from './tiny-cnn.ts';

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-card-'));
const onnxPath = path.join(tempDir, 'tiny.onnx');
let card: ModelCard;

beforeAll(async () => {
  await writeTinyCnn(onnxPath, { size: 224, classes: 1000 });
  card = buildModelCard({
    name: 'tiny',
    file: 'tiny.onnx',
    sha256: await fileSha256(onnxPath),
    inputName: 'input',
    outputName: 'logits',
    outputKind: 'logits',
    style: 'torchvision',
    labels: await readImagenetClasses(),
    source: {},
  });
});
afterAll(() => rm(tempDir, { recursive: true, force: true }));

async function mismatch(changed: ModelCard): Promise<LabelqError> {
  const error = await checkModelAgainstCard(onnxPath, changed).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LabelqError);
  expect((error as LabelqError).code).toBe('MODEL_CARD_MISMATCH');
  return error as LabelqError;
}

describe('checkModelAgainstCard', () => {
  it('accepts the model its card describes', async () => {
    await expect(checkModelAgainstCard(onnxPath, card)).resolves.toBeUndefined();
  });

  it('names the card input missing from the model and lists the inputs it has', async () => {
    const error = await mismatch({ ...card, input: { ...card.input, name: 'data' } });
    expect(error.message).toMatch(/the card's input data is not among the model's inputs \(input\)/);
  });

  it('names an input size the model does not take', async () => {
    const error = await mismatch({ ...card, input: { ...card.input, height: 256 } });
    expect(error.message).toMatch(/has shape \[N, 3, 224, 224\] but the card says NCHW with height 256, width 224, channels 3/);
  });

  it('names a layout the model does not take', async () => {
    const error = await mismatch({ ...card, input: { ...card.input, layout: 'NHWC' } });
    expect(error.message).toMatch(/the card says NHWC with height 224, width 224, channels 3 \(\[batch, 224, 224, 3\]\)/);
  });

  it('names the card output missing from the model', async () => {
    const error = await mismatch({ ...card, output: { ...card.output, name: 'probabilities' } });
    expect(error.message).toMatch(/the card's output probabilities is not among the model's outputs \(logits\)/);
  });

  it('names a class count that differs from the card labels', async () => {
    const error = await mismatch({ ...card, labels: card.labels.slice(0, 10) });
    expect(error.message).toMatch(/output logits has shape \[N, 1000\], which does not give the card's 10 classes/);
  });

  it('names a sha256 that is not the file', async () => {
    const error = await mismatch({ ...card, sha256: '0'.repeat(64) });
    expect(error.message).toMatch(new RegExp(`the file's sha256 is ${card.sha256} but the card says 0{64}`));
  });

  it('lists every mismatch at once', async () => {
    const error = await mismatch({ ...card, sha256: 'f'.repeat(64), output: { ...card.output, name: 'x' } });
    expect(error.details['problems']).toHaveLength(2);
  });
});
