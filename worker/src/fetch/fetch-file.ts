import { open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isLabelqError, itemError, type LabelqError } from '@labelq/shared/errors';
import { throwIfCallerAborted, type FetchLimits, type ItemFetcher } from './fetcher.ts';

/**
 * Reads items from the worker's file system: `file:///absolute/path` (percent-decoded) or `/absolute/path`.
 * The size is checked on the opened file (fstat) before reading, so an oversized file is never read and a file
 * swapped between the check and the read cannot slip past it.
 */
export function createFileFetcher(limits: Pick<FetchLimits, 'maxImageBytes'>): ItemFetcher {
  return {
    async fetch(uri, signal) {
      throwIfCallerAborted(signal);
      const path = filePathOf(uri);
      let handle: FileHandle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw fileError(error, path);
      }
      try {
        const stats = await handle.stat();
        if (stats.isDirectory()) throw itemError('FETCH_FAILED', `${path} is a folder, not an image file.`);
        if (!stats.isFile()) throw itemError('FETCH_FAILED', `${path} is not a regular file (a device, socket or pipe).`);
        if (stats.size > limits.maxImageBytes) throw tooLarge(path, `${stats.size} bytes`, limits.maxImageBytes);
        const bytes = await handle.readFile(signal === undefined ? {} : { signal });
        // The file may have grown since fstat.
        if (bytes.length > limits.maxImageBytes) throw tooLarge(path, `${bytes.length} bytes`, limits.maxImageBytes);
        return bytes;
      } catch (error) {
        throwIfCallerAborted(signal);
        throw fileError(error, path);
      } finally {
        await handle.close();
      }
    },
  };
}

function filePathOf(uri: string): string {
  if (uri.startsWith('/')) return uri;
  try {
    return fileURLToPath(uri);
  } catch (error) {
    throw itemError('URI_INVALID', `The URI ${JSON.stringify(uri)} is not a file URL; write file:///absolute/path or an absolute path.`, error);
  }
}

function tooLarge(path: string, size: string, maxImageBytes: number): LabelqError {
  return itemError('FETCH_TOO_LARGE', `${path} is ${size}, more than the ${maxImageBytes} bytes allowed (maxImageBytes).`);
}

function fileError(error: unknown, path: string): LabelqError {
  if (isLabelqError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return itemError('FETCH_NOT_FOUND', `${path} does not exist.`, error);
    case 'ENOTDIR':
      return itemError('FETCH_NOT_FOUND', `${path} does not exist (a part of its path is a file, not a folder).`, error);
    case 'EACCES':
    case 'EPERM':
      return itemError('FETCH_FORBIDDEN', `${path} cannot be read: permission denied.`, error);
    case 'EISDIR':
      return itemError('FETCH_FAILED', `${path} is a folder, not an image file.`, error);
    case 'ENAMETOOLONG':
      return itemError('URI_INVALID', `The path ${path.slice(0, 200)}… is too long for the file system.`, error);
    default:
      return itemError('FETCH_FAILED', `${path} could not be read: ${(error as Error)?.message ?? String(error)}.`, error);
  }
}
