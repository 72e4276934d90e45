import type { InspectReport } from './inspect.ts';
import type { ConvSummary, ResidualBlock, Stage } from './network-structure.ts';

/** The inspect report as text: the network in the layout of table 1 of the ResNet paper, then totals and the verdict. */

function dims(values: readonly (number | string | null)[] | undefined): string {
  return values ? `[${values.map((d) => d ?? '?').join(', ')}]` : '(none)';
}

function size(shape: readonly number[]): string {
  return shape.length >= 3 ? `${shape[1]}×${shape[2]}` : '?';
}

function conv(c: ConvSummary): string {
  return `${c.kernel.join('×')}, ${c.outChannels}${c.stride !== 1 ? `, stride ${c.stride}` : ''}${c.group !== 1 ? `, group ${c.group}` : ''}`;
}

function mainPath(block: ResidualBlock): string {
  return `[${block.mainPath.map((c) => `${c.kernel.join('×')}, ${c.outChannels}`).join(' | ')}]`;
}

/** Blocks with the same main path as "[...] × n", and what is special about each group's first block. */
function stageLines(stage: Stage): string[] {
  const lines: string[] = [];
  for (let i = 0; i < stage.blocks.length; ) {
    const first = stage.blocks[i] as ResidualBlock;
    let count = 1;
    while (i + count < stage.blocks.length && mainPath(stage.blocks[i + count] as ResidualBlock) === mainPath(first)) count++;
    const notes: string[] = [];
    const strided = first.mainPath.find((c) => c.stride !== 1);
    if (strided) notes.push(`stride ${strided.stride} on the ${strided.kernel.join('×')}`);
    if (first.shortcut.length > 0) notes.push(`projection shortcut ${first.shortcut.map(conv).join(' + ')}`);
    lines.push(`${mainPath(first)} × ${count}${notes.length > 0 ? `   (first block: ${notes.join('; ')})` : ''}`);
    i += count;
  }
  return lines;
}

function row(name: string, outputSize: string, layers: string): string {
  return `${name.padEnd(10)} ${outputSize.padEnd(12)} ${layers}`;
}

function giga(value: number): string {
  return `${(value / 1e9).toFixed(2)} G`;
}

export function formatInspectReport(report: InspectReport): string {
  const { structure } = report;
  const lines = [
    `${report.file}`,
    `  ${(report.sizeBytes / 2 ** 20).toFixed(1)} MiB, opset ${report.opset}, producer ${report.producer || '(none)'}`,
    `  input  ${report.input?.name ?? '(none)'} ${dims(report.input?.dims)}`,
    `  output ${report.output?.name ?? '(none)'} ${dims(report.output?.dims)}`,
    '',
    row('layer name', 'output size', 'layers'),
  ];
  structure.stem.convs.forEach((c, i) => lines.push(row(i === 0 ? 'conv1' : '', size(c.outputShape), conv(c))));
  const stemPools = structure.stem.pools.map((p) => `${p.kernel.join('×')} ${p.op === 'MaxPool' ? 'max' : 'average'} pool, stride ${p.stride}`);
  if (structure.stages.length === 0 && stemPools.length > 0) lines.push(row('', '', stemPools.join(', ')));
  structure.stages.forEach((stage, i) => {
    const stageRows = [...(i === 0 ? stemPools : []), ...stageLines(stage)];
    stageRows.forEach((text, j) => lines.push(row(j === 0 ? stage.name : '', j === 0 ? stage.outputSize.join('×') : '', text)));
  });
  const head = [
    structure.head.pools.some((p) => /Average|Mean/.test(p)) ? 'average pool' : structure.head.pools.join(', '),
    ...structure.head.fc.map((f) => `${f.outFeatures}-d fc`),
    structure.head.softmax ? 'softmax' : 'logits',
  ].filter(Boolean);
  lines.push(row('', '1×1', head.join(', ')));
  if (structure.otherConvs.length > 0) lines.push(row('other', '', `${structure.otherConvs.length} convolution(s) outside the stem and residual blocks`));
  lines.push(
    '',
    `parameters                      ${report.parameters.toLocaleString('en-US')} (${(report.parameters / 1e6).toFixed(1)} M)`,
    `multiply-accumulates per image  ${giga(report.macsPerImage)}`,
    `operators                       ${Object.entries(report.opCounts).map(([op, n]) => `${op} ${n}`).join(', ')}`,
  );
  if (report.unsupportedOps.length > 0) lines.push(`shapes not followed through     ${report.unsupportedOps.join(', ')}`);
  lines.push('');
  if (report.isResnet50) {
    const counts = structure.stages.map((s) => s.blocks.length).join('/');
    lines.push(`verdict: a ResNet50 (bottleneck blocks ${counts}, ${report.classes} classes)`);
  } else {
    lines.push('verdict: NOT a ResNet50:', ...report.differences.map((d) => `  - ${d}`));
  }
  return lines.join('\n');
}
