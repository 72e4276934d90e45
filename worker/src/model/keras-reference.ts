/**
 * A plain, slow channels-last (NHWC, one image) reference of the Keras layers the converter handles, used by the
 * tests to check the converted ONNX graph on small models. Tensors are { h, w, c, data } in row-major HWC order.
 */
export interface Hwc {
  h: number;
  w: number;
  c: number;
  data: Float64Array;
}

export function hwc(h: number, w: number, c: number, data?: ArrayLike<number>): Hwc {
  return { h, w, c, data: data ? Float64Array.from(data) : new Float64Array(h * w * c) };
}

const at = (t: Hwc, y: number, x: number, ch: number): number => (y < 0 || x < 0 || y >= t.h || x >= t.w ? 0 : (t.data[(y * t.w + x) * t.c + ch] as number));

export function zeroPad(t: Hwc, top: number, bottom: number, left: number, right: number): Hwc {
  const out = hwc(t.h + top + bottom, t.w + left + right, t.c);
  for (let y = 0; y < out.h; y++) for (let x = 0; x < out.w; x++) for (let ch = 0; ch < t.c; ch++) out.data[(y * out.w + x) * t.c + ch] = at(t, y - top, x - left, ch);
  return out;
}

/** Conv2D with a HWIO kernel; 'same' pads as TensorFlow (extra pixel after). */
export function conv2d(t: Hwc, kernel: Float32Array, k: number, filters: number, stride: number, padding: 'same' | 'valid', bias?: Float32Array): Hwc {
  let input = t;
  if (padding === 'same') {
    const pad = (size: number): [number, number] => {
      const total = Math.max((Math.ceil(size / stride) - 1) * stride + k - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [top, bottom] = pad(t.h);
    const [left, right] = pad(t.w);
    input = zeroPad(t, top, bottom, left, right);
  }
  const out = hwc(Math.floor((input.h - k) / stride) + 1, Math.floor((input.w - k) / stride) + 1, filters);
  for (let y = 0; y < out.h; y++) {
    for (let x = 0; x < out.w; x++) {
      for (let o = 0; o < filters; o++) {
        let sum = bias?.[o] ?? 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) for (let i = 0; i < t.c; i++) sum += at(input, y * stride + ky, x * stride + kx, i) * (kernel[((ky * k + kx) * t.c + i) * filters + o] as number);
        out.data[(y * out.w + x) * filters + o] = sum;
      }
    }
  }
  return out;
}

export function batchNorm(t: Hwc, p: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }): Hwc {
  const out = hwc(t.h, t.w, t.c);
  t.data.forEach((v, i) => {
    const ch = i % t.c;
    out.data[i] = ((v - (p.mean[ch] as number)) / Math.sqrt((p.variance[ch] as number) + p.epsilon)) * (p.gamma[ch] as number) + (p.beta[ch] as number);
  });
  return out;
}

export function relu(t: Hwc): Hwc {
  return { ...t, data: t.data.map((v) => Math.max(v, 0)) };
}

export function maxPoolValid(t: Hwc, k: number, stride: number): Hwc {
  const out = hwc(Math.floor((t.h - k) / stride) + 1, Math.floor((t.w - k) / stride) + 1, t.c);
  for (let y = 0; y < out.h; y++) for (let x = 0; x < out.w; x++) for (let ch = 0; ch < t.c; ch++) {
    let best = -Infinity;
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) best = Math.max(best, at(t, y * stride + ky, x * stride + kx, ch));
    out.data[(y * out.w + x) * t.c + ch] = best;
  }
  return out;
}

export function add(a: Hwc, b: Hwc): Hwc {
  return { ...a, data: a.data.map((v, i) => v + (b.data[i] as number)) };
}

/** Dense on the HWC-flattened tensor (Keras Flatten order), then softmax. */
export function denseSoftmax(t: Hwc, kernel: Float32Array, units: number, bias: Float32Array): number[] {
  const logits = Array.from({ length: units }, (_, o) => t.data.reduce((sum, v, i) => sum + v * (kernel[i * units + o] as number), bias[o] as number));
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}
