/**
 * The inference thread: owns the one ONNX Runtime session of a worker process. `session.run()` blocks the
 * thread it runs on; here that is this thread, so the main thread's event loop stays free to renew BullMQ locks.
 * It receives batches of cropped RGB bytes, normalises them into a reused float buffer, runs the model and
 * answers with the top-k of each image.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { isLabelqError } from '@labelq/shared/errors';
import { openSession } from './session.ts';
import { createNormaliser } from '../preprocess/normaliser.ts';
import { topKRows } from './top-k.ts';
import type { FromThread, InferenceThreadData, ToThread } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('inference-thread.ts must run as a worker thread');
const data = workerData as InferenceThreadData;
const { card, topK, maxBatchSize } = data;
const nullDeviceBatchMs = data.nullDeviceBatchMs ?? 0;
const classes = card.labels.length;
const normaliser = createNormaliser(card);
const input = new Float32Array(maxBatchSize * normaliser.floatsPerImage);
const shapeOf = (count: number): number[] =>
  card.input.layout === 'NCHW' ? [count, 3, card.input.height, card.input.width] : [count, card.input.height, card.input.width, 3];

function send(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

let session: ort.InferenceSession | undefined;

async function start(): Promise<void> {
  const started = performance.now();
  if (data.settings.device === 'null') {
    send({ type: 'ready', deviceInUse: 'null', sessionOpenMs: 0 });
    return;
  }
  try {
    const opened = await openSession(data.modelPath, data.settings);
    session = opened.session;
    send({
      type: 'ready',
      deviceInUse: opened.deviceInUse,
      sessionOpenMs: performance.now() - started,
      ...(opened.fallbackReason === undefined ? {} : { fallbackReason: opened.fallbackReason }),
    });
  } catch (error) {
    send({
      type: 'fatal',
      code: isLabelqError(error) ? error.code : 'MODEL_INVALID',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

async function runBatch(crops: Uint8Array, count: number): Promise<{ indices: Int32Array; probabilities: Float32Array }> {
  if (session === undefined) {
    // The null device: no model at all, for measuring the queue alone. Every image gets class 0..k-1, after
    // the simulated batch time (a timer, no CPU) when the benchmark sets one.
    if (nullDeviceBatchMs > 0) await sleep(nullDeviceBatchMs);
    const kept = Math.min(topK, classes);
    const indices = new Int32Array(count * kept).map((_, i) => i % kept);
    return { indices, probabilities: new Float32Array(count * kept).fill(1 / classes) };
  }
  const floats = normaliser.floatsPerImage;
  for (let i = 0; i < count; i++) normaliser.writeInto(crops.subarray(i * floats, (i + 1) * floats), input, i * floats);
  const tensor = new ort.Tensor('float32', input.subarray(0, count * normaliser.floatsPerImage), shapeOf(count));
  const outputs = await session.run({ [card.input.name]: tensor });
  const output = outputs[card.output.name];
  if (output === undefined) throw new Error(`the model gave no output named "${card.output.name}"`);
  const values = output.data;
  if (!(values instanceof Float32Array) || values.length !== count * classes) {
    throw new Error(`the model's output "${card.output.name}" has shape [${output.dims.join(',')}], expected [${count},${classes}]`);
  }
  const top = topKRows(values, count, classes, topK, card.output.kind);
  output.dispose();
  return top;
}

// One batch at a time: the session is not shared, and queued batches wait here in order.
let chain: Promise<void> = Promise.resolve();
port.on('message', (message: ToThread) => {
  if (message.type === 'close') {
    chain = chain.then(async () => {
      await session?.release();
      port.close();
    });
    return;
  }
  chain = chain.then(async () => {
    const started = performance.now();
    try {
      const { indices, probabilities } = await runBatch(message.crops, message.count);
      send(
        { type: 'result', id: message.id, indices, probabilities, crops: message.crops, inferenceMs: performance.now() - started },
        [message.crops.buffer as ArrayBuffer],
      );
    } catch (error) {
      send({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error), crops: message.crops }, [
        message.crops.buffer as ArrayBuffer,
      ]);
    }
  });
});

await start();
