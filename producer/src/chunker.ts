/** Groups an async iterable into arrays of `size` (the last one may be shorter; no empty array is yielded). */
export async function* chunked<T>(items: AsyncIterable<T> | Iterable<T>, size: number): AsyncIterable<T[]> {
  checkSize(size);
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The same grouping for items that already come in arrays of any length (a page of a listing, a piece of a
 * file): the per-item work stays in plain loops, without an await per item.
 */
export async function* rechunked<T>(batches: AsyncIterable<T[]> | Iterable<T[]>, size: number): AsyncIterable<T[]> {
  checkSize(size);
  let chunk: T[] = [];
  for await (const batch of batches) {
    let start = 0;
    while (start < batch.length) {
      const take = Math.min(size - chunk.length, batch.length - start);
      if (chunk.length === 0 && take === size) {
        yield batch.slice(start, start + size);
      } else {
        for (let i = start; i < start + take; i += 1) chunk.push(batch[i]!);
        if (chunk.length === size) {
          yield chunk;
          chunk = [];
        }
      }
      start += take;
    }
  }
  if (chunk.length > 0) yield chunk;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, not ${size}`);
}
