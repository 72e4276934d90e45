/**
 * Top-k of each row of a [count, classes] matrix, most probable first. Logits are turned into probabilities
 * with a numerically stable softmax; probability outputs are used as they are.
 */
export function topKRows(
  values: Float32Array,
  count: number,
  classes: number,
  k: number,
  kind: 'probabilities' | 'logits',
): { indices: Int32Array; probabilities: Float32Array } {
  const kept = Math.min(k, classes);
  const indices = new Int32Array(count * kept);
  const probabilities = new Float32Array(count * kept);
  const row = new Float32Array(classes);
  for (let r = 0; r < count; r++) {
    row.set(values.subarray(r * classes, (r + 1) * classes));
    if (kind === 'logits') softmaxInPlace(row);
    const best = new Int32Array(kept).fill(-1);
    for (let c = 0; c < classes; c++) {
      const v = row[c]!;
      if (best[kept - 1]! >= 0 && v <= row[best[kept - 1]!]!) continue;
      let i = kept - 1;
      while (i > 0 && (best[i - 1]! < 0 || v > row[best[i - 1]!]!)) {
        best[i] = best[i - 1]!;
        i--;
      }
      best[i] = c;
    }
    for (let i = 0; i < kept; i++) {
      indices[r * kept + i] = best[i]!;
      probabilities[r * kept + i] = row[best[i]!]!;
    }
  }
  return { indices, probabilities };
}

export function softmaxInPlace(row: Float32Array): void {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const e = Math.exp(row[i]! - max);
    row[i] = e;
    sum += e;
  }
  for (let i = 0; i < row.length; i++) row[i] = row[i]! / sum;
}
