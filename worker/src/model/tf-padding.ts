/** TensorFlow's padding rules, as ONNX pads [top, left, bottom, right]. */

export type Pads = [number, number, number, number];

/** Output size of a window op along one axis. */
export function windowOutputSize(inputSize: number, kernel: number, stride: number, padTotal: number, dilation = 1): number {
  return Math.floor((inputSize + padTotal - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** TF 'same': output = ceil(input / stride); the odd pixel of padding goes after (bottom/right). */
function samePadAxis(inputSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const outputSize = Math.ceil(inputSize / stride);
  const total = Math.max((outputSize - 1) * stride + (kernel - 1) * dilation + 1 - inputSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function tfPads(
  padding: 'same' | 'valid',
  input: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): Pads {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [top, bottom] = samePadAxis(input[0], kernel[0], strides[0], dilations[0]);
  const [left, right] = samePadAxis(input[1], kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

/** Keras ZeroPadding2D `padding` ([[top, bottom], [left, right]], or symmetric forms) as ONNX pads. */
export function zeroPaddingPads(padding: unknown): Pads {
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (Array.isArray(padding) && padding.length === 2) {
    const [h, w] = padding as unknown[];
    if (typeof h === 'number' && typeof w === 'number') return [h, w, h, w];
    if (Array.isArray(h) && Array.isArray(w)) return [Number(h[0]), Number(w[0]), Number(h[1]), Number(w[1])];
  }
  throw new Error(`unsupported ZeroPadding2D padding ${JSON.stringify(padding)}`);
}

export function addPads(a: Pads, b: Pads): Pads {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}
