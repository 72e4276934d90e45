import type { NetworkStructure } from './network-structure.ts';
import type { TensorSignature } from './onnx-model-file.ts';

/** What a ResNet50 is (He et al. 2015, table 1), and the list of ways a network differs from it. */
export const resnet50Reference = {
  inputShape: [3, 224, 224],
  classes: 1000,
  blocksPerStage: [3, 4, 6, 3],
  widths: [64, 128, 256, 512],
  expansion: 4,
  stageOutputSizes: [56, 28, 14, 7],
} as const;

function stemDifferences(structure: NetworkStructure): string[] {
  const differences: string[] = [];
  const [conv, ...moreConvs] = structure.stem.convs;
  if (!conv) differences.push('no stem convolution before the first residual block');
  else if (conv.kernel.join() !== '7,7' || conv.outChannels !== 64 || conv.stride !== 2 || moreConvs.length > 0) {
    const found = structure.stem.convs.map((c) => `${c.kernel.join('×')}/${c.outChannels} stride ${c.stride}`).join(', ');
    differences.push(`the stem is ${found}, not one 7×7/64 stride 2 convolution`);
  }
  const [pool, ...morePools] = structure.stem.pools;
  if (!pool || pool.op !== 'MaxPool' || pool.kernel.join() !== '3,3' || pool.stride !== 2 || morePools.length > 0) {
    const found = structure.stem.pools.map((p) => `${p.op} ${p.kernel.join('×')} stride ${p.stride}`).join(', ') || 'no pooling';
    differences.push(`the stem pooling is ${found}, not one 3×3 max pool with stride 2`);
  }
  return differences;
}

function stageDifferences(structure: NetworkStructure): string[] {
  const differences: string[] = [];
  const counts = structure.stages.map((s) => s.blocks.length);
  if (counts.join() !== resnet50Reference.blocksPerStage.join()) {
    differences.push(`the residual blocks per stage are ${counts.join('/') || 'none'}, not 3/4/6/3`);
  }
  structure.stages.forEach((stage, i) => {
    const width = resnet50Reference.widths[i];
    const size = resnet50Reference.stageOutputSizes[i];
    if (width === undefined || size === undefined) return;
    if (stage.outputSize[0] !== size || stage.outputSize[1] !== size) differences.push(`${stage.name} outputs ${stage.outputSize.join('×')}, not ${size}×${size}`);
    const odd = stage.blocks.findIndex((block) => {
      const pattern = block.mainPath.map((c) => `${c.kernel.join('×')}/${c.outChannels}`).join(' ');
      return pattern !== `1×1/${width} 3×3/${width} 1×1/${width * resnet50Reference.expansion}`;
    });
    if (odd >= 0) {
      const found = stage.blocks[odd]?.mainPath.map((c) => `${c.kernel.join('×')}/${c.outChannels}`).join(' - ');
      differences.push(`${stage.name} block ${odd + 1} is ${found}, not the bottleneck 1×1/${width} - 3×3/${width} - 1×1/${width * 4}`);
    }
  });
  return differences;
}

export function resnet50Differences(input: TensorSignature | undefined, output: TensorSignature | undefined, structure: NetworkStructure, classes: number | undefined): string[] {
  const differences: string[] = [];
  const inputShape = input?.dims.slice(1);
  if (!input || input.dims.length !== 4 || inputShape?.join() !== resnet50Reference.inputShape.join()) {
    differences.push(`the input is ${input ? `[${input.dims.map((d) => d ?? '?').join(', ')}]` : 'missing'}, not [N, 3, 224, 224]`);
  }
  if (classes !== resnet50Reference.classes) differences.push(`the output ${output?.name ?? ''} has ${classes ?? 'an unknown number of'} classes, not 1000`);
  differences.push(...stemDifferences(structure), ...stageDifferences(structure));
  const fc = structure.head.fc;
  if (fc.length !== 1 || fc[0]?.inFeatures !== 2048) {
    differences.push(`the head has ${fc.map((f) => `${f.inFeatures}→${f.outFeatures}`).join(', ') || 'no'} fully connected layer(s), not one 2048→1000`);
  }
  if (!structure.head.pools.some((p) => p === 'GlobalAveragePool' || p === 'AveragePool' || p === 'ReduceMean')) differences.push('the head has no average pooling');
  if (structure.otherConvs.length > 0) differences.push(`${structure.otherConvs.length} convolution(s) sit outside the stem and the residual blocks (${structure.otherConvs.map((c) => c.name).slice(0, 3).join(', ')})`);
  return differences;
}
