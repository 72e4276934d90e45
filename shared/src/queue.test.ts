import { describe, expect, it } from 'vitest';
import { freshName, missingTestServices, testRedisUrl } from '../../test/harness/services.ts';
import { loadConfig } from './config.ts';
import { jobPayloadVersion } from './job.ts';
import { completedJobsKeptCount, completedJobsKeptMs, createLabelQueue } from './queue.ts';
import { createRedisConnection } from './redis-connection.ts';

const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('createLabelQueue', () => {
  it('uses the configured prefix and name and gives jobs the retry and retention defaults', async () => {
    const config = loadConfig({ queueName: freshName('queue'), bullPrefix: freshName('pfx'), jobAttempts: 7, jobBackoffMs: 1500 }, {});
    const connection = createRedisConnection(testRedisUrl(), 'queue');
    const queue = createLabelQueue(config, connection);
    try {
      const job = await queue.add('label', { v: jobPayloadVersion, run: 'r1', chunk: 0, out: 'file:///tmp/x/', uris: ['/data/a.jpg'] }, { jobId: 'r1.00000000' });
      expect(job.id).toBe('r1.00000000');
      expect(job.opts).toMatchObject({
        attempts: 7,
        backoff: { type: 'exponential', delay: 1500 },
        removeOnComplete: { age: completedJobsKeptMs / 1000, count: completedJobsKeptCount },
        removeOnFail: false,
      });
      expect(await connection.exists(`${config.bullPrefix}:${config.queueName}:r1.00000000`)).toBe(1);
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
      expect(connection.status).toBe('ready'); // the queue leaves the connection it was given open
      await connection.quit();
    }
  });
});
