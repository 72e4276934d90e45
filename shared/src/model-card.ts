import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LabelqError } from './errors.ts';

/**
 * The model card: the JSON beside an .onnx that says how to feed the model and how to read its output.
 * Pixel pipeline: decoded RGB bytes (0..255) -> reorder to `colorOrder` -> value * scale -> (v - mean[c]) / std[c],
 * with mean and std given in the model's channel order.
 */
const triple = z.tuple([z.number(), z.number(), z.number()]);

export const modelCardSchema = z.object({
  name: z.string().min(1),
  file: z.string().min(1).describe('file name of the .onnx, relative to the card'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  input: z.object({
    name: z.string().min(1),
    layout: z.enum(['NCHW', 'NHWC']),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.literal(3),
  }),
  output: z.object({
    name: z.string().min(1),
    kind: z.enum(['probabilities', 'logits']),
  }),
  preprocess: z.object({
    colorOrder: z.enum(['RGB', 'BGR']),
    scale: z.number().positive(),
    mean: triple,
    std: triple.refine((s) => s.every((v) => v > 0), 'std values must be positive'),
    resizeShorterSide: z.number().int().positive(),
    cropSize: z.number().int().positive(),
  }),
  labels: z
    .array(z.object({ index: z.number().int().nonnegative(), wnid: z.string(), label: z.string() }))
    .min(2),
  source: z.record(z.string(), z.unknown()).optional(),
});

export type ModelCard = z.infer<typeof modelCardSchema>;

/** The identity written into every record. */
export interface ModelIdentity {
  name: string;
  sha256: string;
}

export async function readModelCard(cardPath: string): Promise<ModelCard> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist (run `labelq model fetch`, or set LABELQ_MODEL)' : (error as Error).message;
    throw new LabelqError('MODEL_INVALID', `Cannot read the model card ${cardPath}: ${reason}`, { cause: error });
  }
  const parsed = modelCardSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LabelqError('MODEL_INVALID', `The model card ${cardPath} is not valid: ${problems}`);
  }
  const card = parsed.data;
  if (card.preprocess.cropSize !== card.input.height || card.preprocess.cropSize !== card.input.width) {
    throw new LabelqError(
      'MODEL_INVALID',
      `The model card ${cardPath} crops to ${card.preprocess.cropSize} but the model input is ${card.input.height}x${card.input.width}.`,
    );
  }
  return card;
}
