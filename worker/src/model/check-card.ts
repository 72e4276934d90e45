import { LabelqError } from '@labelq/shared/errors';
import type { ModelCard } from '@labelq/shared/model-card';
import { fileSha256 } from './file-sha256.ts';
import { formatDims, graphInputs, graphOutputs, readOnnxModel, type TensorSignature } from './onnx-model-file.ts';

function expectedInputDims(card: ModelCard): number[] {
  const { height, width, channels } = card.input;
  return card.input.layout === 'NCHW' ? [channels, height, width] : [height, width, channels];
}

function inputProblems(card: ModelCard, inputs: TensorSignature[]): string[] {
  const input = inputs.find((i) => i.name === card.input.name);
  if (!input) {
    return [`the card's input ${card.input.name} is not among the model's inputs (${inputs.map((i) => i.name).join(', ') || 'none'})`];
  }
  const expected = expectedInputDims(card);
  const actual = input.dims.slice(1);
  const fits = input.dims.length === 4 && expected.every((d, i) => actual[i] === d);
  if (fits) return [];
  const { layout, height, width, channels } = card.input;
  return [
    `the model's input ${input.name} has shape ${formatDims(input.dims)} but the card says ${layout} with height ${height}, width ${width}, channels ${channels} ([batch, ${expected.join(', ')}])`,
  ];
}

function outputProblems(card: ModelCard, outputs: TensorSignature[]): string[] {
  const output = outputs.find((o) => o.name === card.output.name);
  if (!output) return [`the card's output ${card.output.name} is not among the model's outputs (${outputs.map((o) => o.name).join(', ') || 'none'})`];
  const classes = output.dims.at(-1);
  if (output.dims.length !== 2 || classes !== card.labels.length) {
    return [`the model's output ${output.name} has shape ${formatDims(output.dims)}, which does not give the card's ${card.labels.length} classes ([batch, ${card.labels.length}])`];
  }
  return [];
}

/**
 * Checks that an .onnx file is the one its card describes: input name and shape, output name and class count,
 * and the file's sha256. Throws MODEL_CARD_MISMATCH naming every difference found.
 */
export async function checkModelAgainstCard(onnxPath: string, card: ModelCard): Promise<void> {
  const model = await readOnnxModel(onnxPath);
  const problems = [...inputProblems(card, graphInputs(model)), ...outputProblems(card, graphOutputs(model))];
  const sha256 = await fileSha256(onnxPath);
  if (sha256 !== card.sha256) problems.push(`the file's sha256 is ${sha256} but the card says ${card.sha256}`);
  if (problems.length > 0) {
    throw new LabelqError('MODEL_CARD_MISMATCH', `The model ${onnxPath} does not match its card ${card.name}: ${problems.join('; ')}.`, {
      details: { onnxPath, card: card.name, problems },
    });
  }
}
