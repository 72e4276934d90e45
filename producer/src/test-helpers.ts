import type { Redis } from 'ioredis';

/** Test support: deletes every Redis key under `<prefix>:<queue>:` (BullMQ's and the run registry's). */
export async function deleteQueueKeys(redis: Redis, prefix: string, queueName: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${queueName}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
