import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from './config.ts';
import { configurationMarkdown } from '../../infra/config-table.ts';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({}, {});
    expect(config.queueName).toBe('labelq');
    expect(config.chunkSize).toBe(64);
    expect(config.batchSize).toBe(16);
    expect(config.device).toBe('auto');
    expect(config.redisUrl).toBeUndefined();
    expect(config.s3ForcePathStyle).toBe(false);
  });

  it('lets flags override the environment', () => {
    const config = loadConfig({ batchSize: '64' }, { LABELQ_BATCH_SIZE: '8', S3_FORCE_PATH_STYLE: 'true' });
    expect(config.batchSize).toBe(64);
    expect(config.s3ForcePathStyle).toBe(true);
  });

  it('names every bad variable, its value and what it is for, in one error', () => {
    expect(() => loadConfig({}, { LABELQ_BATCH_SIZE: 'lots', LABELQ_DEVICE: 'tpu' })).toThrowError(
      /LABELQ_BATCH_SIZE = "lots" is not valid.*Images per inference batch[\s\S]*LABELQ_DEVICE = "tpu" is not valid/,
    );
    expect(() => loadConfig({ chunkSize: 0 }, {})).toThrowError(/--chunk-size = "0" is not valid/);
  });

  it('never repeats a secret in its error', () => {
    let message = '';
    try {
      loadConfig({}, { REDIS_URL: 'http://user:hunter2@host:1' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('REDIS_URL = (hidden)');
    expect(message).not.toContain('hunter2');
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
  });

  it('is documented in docs/configuration.md exactly as the code defines it', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toBe(configurationMarkdown());
  });
});
