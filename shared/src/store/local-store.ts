import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { LabelqError } from '../errors.ts';
import type { RecordStore } from './record-store.ts';

/** A local folder as a store: writes go to a temporary file and are renamed into place (atomic on POSIX). */
export class LocalStore implements RecordStore {
  readonly url: string;
  readonly root: string;
  /** Folders this store has made: one mkdir per folder, not one per write. */
  private readonly madeFolders = new Set<string>();

  constructor(root: string) {
    this.root = root;
    this.url = pathToFileURL(root).toString();
  }

  private pathOf(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`store key "${key}" may not contain ".."`);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.pathOf(key);
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const folder = dirname(target);
      if (!this.madeFolders.has(folder)) {
        await mkdir(folder, { recursive: true });
        this.madeFolders.add(folder);
      }
      await writeFile(temporary, body).catch(async (error: unknown) => {
        // The folder went away since this store made it: make it again, once.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await mkdir(folder, { recursive: true });
        await writeFile(temporary, body);
      });
      await rename(temporary, target);
    } catch (error) {
      throw new LabelqError('STORE_UNAVAILABLE', `Could not write ${target}: ${(error as Error).message}`, { cause: error });
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LabelqError('STORE_UNAVAILABLE', `Could not read ${this.pathOf(key)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    let entries: string[];
    try {
      entries = await readdir(this.pathOf(folder), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new LabelqError('STORE_UNAVAILABLE', `Could not list ${this.pathOf(folder)}: ${(error as Error).message}`, { cause: error });
    }
    const keys = entries
      .map((entry) => relative(this.root, join(this.pathOf(folder), entry)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix) && !key.endsWith('.tmp'))
      .sort();
    for (const key of keys) yield key;
  }
}
