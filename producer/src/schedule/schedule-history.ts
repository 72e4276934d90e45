import type { Redis } from 'ioredis';
import type { ModelIdentity } from '@labelq/shared/model-card';

/**
 * What a schedule has enqueued so far, beside BullMQ's job scheduler. Keys, under `<bullPrefix>:<queue>:labelq:`:
 *   schedule:<name>                                hash  lastFiredAtMs, lastRun, lastListed, lastEnqueued
 *   schedule:<name>:labelled:<model>@<sha256>      hash  uri -> version (ETag, else LastModified) when enqueued
 *   schedule:<name>:pending:<run>                  list  [uri, version] JSON pairs a firing is enqueueing (deleted after)
 *
 * An object is enqueued again only when its version changed or the schedule's model did (another hash).
 */
export interface LastFiring {
  firedAtMs: number;
  /** Undefined when the firing found nothing new. */
  run: string | undefined;
  listed: number;
  enqueued: number;
}

/** Fields (or list items) written per command. */
const fieldsPerWrite = 1000;

/** A firing's saved list outlives a crash by this long at most, in ms (a retry comes within minutes). */
const pendingKeptMs = 7 * 24 * 60 * 60 * 1000;

export class ScheduleHistory {
  readonly redis: Redis;
  readonly keyPrefix: string;

  constructor(redis: Redis, bullPrefix: string, queueName: string) {
    this.redis = redis;
    this.keyPrefix = `${bullPrefix}:${queueName}:labelq:schedule`;
  }

  private metaKey(name: string): string {
    return `${this.keyPrefix}:${name}`;
  }

  labelledKey(name: string, model: ModelIdentity): string {
    return `${this.keyPrefix}:${name}:labelled:${model.name}@${model.sha256}`;
  }

  /** The version each URI had when it was last enqueued by this schedule with this model (undefined: never). */
  async enqueuedVersions(name: string, model: ModelIdentity, uris: string[]): Promise<(string | undefined)[]> {
    if (uris.length === 0) return [];
    const values = await this.redis.hmget(this.labelledKey(name, model), ...uris);
    return values.map((value) => value ?? undefined);
  }

  /** Notes these objects as enqueued at these versions. */
  async markEnqueued(name: string, model: ModelIdentity, entries: { uri: string; version: string }[]): Promise<void> {
    for (let start = 0; start < entries.length; start += fieldsPerWrite) {
      const fields: Record<string, string> = {};
      for (const { uri, version } of entries.slice(start, start + fieldsPerWrite)) fields[uri] = version;
      await this.redis.hset(this.labelledKey(name, model), fields);
    }
  }

  private pendingKey(name: string, run: string): string {
    return `${this.keyPrefix}:${name}:pending:${run}`;
  }

  /**
   * Saves what a firing is about to enqueue, whole or not at all (written under a temporary key, then renamed),
   * so that a retry of the firing enqueues exactly the same objects in the same order.
   */
  async savePending(name: string, run: string, entries: { uri: string; version: string }[]): Promise<void> {
    const key = this.pendingKey(name, run);
    const writing = `${key}:writing`;
    await this.redis.del(writing);
    for (let start = 0; start < entries.length; start += fieldsPerWrite) {
      await this.redis.rpush(writing, ...entries.slice(start, start + fieldsPerWrite).map(({ uri, version }) => JSON.stringify([uri, version])));
    }
    await this.redis.multi().rename(writing, key).pexpire(key, pendingKeptMs).exec();
  }

  /** What an earlier attempt of this firing saved; undefined when there is none. */
  async pending(name: string, run: string): Promise<{ uri: string; version: string }[] | undefined> {
    const key = this.pendingKey(name, run);
    const entries: { uri: string; version: string }[] = [];
    const length = await this.redis.llen(key);
    for (let start = 0; start < length; start += fieldsPerWrite) {
      for (const item of await this.redis.lrange(key, start, start + fieldsPerWrite - 1)) {
        const [uri, version] = JSON.parse(item) as [string, string];
        entries.push({ uri, version });
      }
    }
    return entries.length === 0 ? undefined : entries;
  }

  async clearPending(name: string, run: string): Promise<void> {
    await this.redis.unlink(this.pendingKey(name, run));
  }

  async recordFiring(name: string, firing: LastFiring): Promise<void> {
    await this.redis.hset(this.metaKey(name), {
      lastFiredAtMs: String(firing.firedAtMs),
      lastRun: firing.run ?? '',
      lastListed: String(firing.listed),
      lastEnqueued: String(firing.enqueued),
    });
  }

  async lastFiring(name: string): Promise<LastFiring | undefined> {
    const hash = await this.redis.hgetall(this.metaKey(name));
    if (hash['lastFiredAtMs'] === undefined) return undefined;
    return {
      firedAtMs: Number(hash['lastFiredAtMs']),
      run: hash['lastRun'] === '' ? undefined : hash['lastRun'],
      listed: Number(hash['lastListed'] ?? 0),
      enqueued: Number(hash['lastEnqueued'] ?? 0),
    };
  }

  /** Forgets the schedule: its last firing, what it enqueued with every model, firings half done. Returns the keys removed. */
  async forget(name: string): Promise<number> {
    const keys = [this.metaKey(name)];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.keyPrefix}:${name}:*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    return this.redis.unlink(...keys);
  }
}
