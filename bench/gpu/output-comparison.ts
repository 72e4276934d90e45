/** How far two [batch, classes] outputs of the same model on the same inputs are apart. */
export interface OutputComparison {
  maxAbsDiff: number;
  /** ‖a − b‖ / ‖b‖ over the whole tensor. */
  relativeL2: number;
  maxAbsReference: number;
  /** Rows whose arg-max agrees. */
  top1Agreement: number;
  rows: number;
  nonFinite: number;
}

function argMax(values: Float32Array, start: number, length: number): number {
  let best = start;
  for (let i = start + 1; i < start + length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best - start;
}

export function compareOutputs(candidate: Float32Array, reference: Float32Array, rows: number): OutputComparison {
  if (candidate.length !== reference.length || reference.length % rows !== 0) {
    throw new Error(`output sizes differ or do not split into ${rows} rows: ${candidate.length} vs ${reference.length}`);
  }
  let maxAbsDiff = 0;
  let maxAbsReference = 0;
  let diffSquares = 0;
  let referenceSquares = 0;
  let nonFinite = 0;
  for (let i = 0; i < reference.length; i++) {
    const a = candidate[i] as number;
    const b = reference[i] as number;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      nonFinite++;
      continue;
    }
    const d = Math.abs(a - b);
    if (d > maxAbsDiff) maxAbsDiff = d;
    if (Math.abs(b) > maxAbsReference) maxAbsReference = Math.abs(b);
    diffSquares += d * d;
    referenceSquares += b * b;
  }
  const columns = reference.length / rows;
  let agree = 0;
  for (let r = 0; r < rows; r++) if (argMax(candidate, r * columns, columns) === argMax(reference, r * columns, columns)) agree++;
  return {
    maxAbsDiff,
    relativeL2: referenceSquares > 0 ? Math.sqrt(diffSquares / referenceSquares) : Number.NaN,
    maxAbsReference,
    top1Agreement: agree / rows,
    rows,
    nonFinite,
  };
}
