import { modelCardSchema, type ModelCard } from '@labelq/shared/model-card';

/** How each family of ResNet50 wants its pixels (see shared/src/model-card.ts for the pipeline). */
export type PreprocessStyle = 'keras' | 'torchvision';

export const preprocessPresets: Record<PreprocessStyle, ModelCard['preprocess']> = {
  /** Keras "caffe" mode: BGR, 0..255, per-channel mean subtracted in BGR order, no std division. */
  keras: { colorOrder: 'BGR', scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1], resizeShorterSide: 256, cropSize: 224 },
  /** torchvision: RGB scaled to 0..1, ImageNet mean and std. */
  torchvision: { colorOrder: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resizeShorterSide: 256, cropSize: 224 },
};

export interface CardFields {
  name: string;
  file: string;
  sha256: string;
  inputName: string;
  outputName: string;
  outputKind: ModelCard['output']['kind'];
  style: PreprocessStyle;
  labels: ModelCard['labels'];
  source: Record<string, unknown>;
}

/** A model card for a 224x224 NCHW ResNet-style model, checked against the shared schema. */
export function buildModelCard(fields: CardFields): ModelCard {
  const preprocess = preprocessPresets[fields.style];
  return modelCardSchema.parse({
    name: fields.name,
    file: fields.file,
    sha256: fields.sha256,
    input: { name: fields.inputName, layout: 'NCHW', height: preprocess.cropSize, width: preprocess.cropSize, channels: 3 },
    output: { name: fields.outputName, kind: fields.outputKind },
    preprocess,
    labels: fields.labels,
    source: fields.source,
  });
}
