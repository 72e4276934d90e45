import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';
import { registerModelCommands } from '../cli/model-commands.ts';
import { writeTinyCnn } from './tiny-cnn.ts';

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-model-cli-'));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

function program(): Command {
  const root = new Command('labelq').exitOverride();
  registerModelCommands(root);
  return root;
}

/** Runs one command line, collecting what it writes to stdout. */
async function run(args: string[]): Promise<{ stdout: string; error?: unknown }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  try {
    await program().parseAsync(['node', 'labelq', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error };
  } finally {
    process.stdout.write = write;
  }
}

describe('labelq model commands', () => {
  it('inspect prints the table and fails with a clear message for a model that is not a ResNet50', async () => {
    const file = path.join(tempDir, 'tiny.onnx');
    await writeTinyCnn(file, { size: 32, classes: 10 });
    const { stdout, error } = await run(['model', 'inspect', file]);
    expect(stdout).toMatch(/verdict: NOT a ResNet50/);
    expect(error).toBeInstanceOf(LabelqError);
    expect((error as LabelqError).message).toMatch(/tiny\.onnx is not a ResNet50: the input is \[N, 3, 32, 32\], not \[N, 3, 224, 224\]/);
  });

  it('random writes a model and card, and refuses an unknown style', async () => {
    const out = path.join(tempDir, 'random');
    const made = await run(['model', 'random', '--out', out, '--seed', '4', '--style', 'torchvision', '--name', 'r50']);
    expect(made.error).toBeUndefined();
    expect(made.stdout).toMatch(/sha256 [0-9a-f]{64}/);
    expect((await readdir(out)).sort()).toEqual(['r50.json', 'r50.onnx']);
    const refused = await run(['model', 'random', '--out', out, '--style', 'caffe']);
    expect((refused.error as LabelqError).message).toBe('--style must be keras or torchvision, not caffe.');
  }, 60_000);
});
