/** Weight layout changes and folds between Keras (channels-last) and ONNX (channels-first) convolutions. */

/** Keras kernel [kh, kw, in, out] (HWIO) to ONNX [out, in, kh, kw] (OIHW). */
export function hwioToOihw(hwio: Float32Array, dims: readonly number[]): { weight: Float32Array; dims: [number, number, number, number] } {
  const [kh, kw, cin, cout] = dims as [number, number, number, number];
  const oihw = new Float32Array(hwio.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const src = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + y) * kw + x] = hwio[src + o] as number;
      }
    }
  }
  return { weight: oihw, dims: [cout, cin, kh, kw] };
}

export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * Folds inference-mode batch normalisation into the convolution before it:
 * y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta  ==  conv'(x) + b'
 * with w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps), per output channel.
 * Computed in float64 and rounded once. Weights in OIHW order (output channel first).
 */
export function foldBatchNorm(weight: Float32Array, bias: Float32Array | undefined, bn: BatchNormParams): { weight: Float32Array; bias: Float32Array } {
  const outChannels = bn.gamma.length;
  const perChannel = weight.length / outChannels;
  if (!Number.isInteger(perChannel)) throw new Error(`cannot fold ${outChannels} batch-norm channels into ${weight.length} weights`);
  const folded = new Float32Array(weight.length);
  const foldedBias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const s = (bn.gamma[o] as number) / Math.sqrt((bn.variance[o] as number) + bn.epsilon);
    for (let k = o * perChannel; k < (o + 1) * perChannel; k++) folded[k] = (weight[k] as number) * s;
    foldedBias[o] = ((bias?.[o] ?? 0) - (bn.mean[o] as number)) * s + (bn.beta[o] as number);
  }
  return { weight: folded, bias: foldedBias };
}
