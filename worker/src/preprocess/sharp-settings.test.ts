import { describe, expect, it } from 'vitest';
import { threadpoolShortfall } from './sharp-settings.ts';

describe('threadpoolShortfall', () => {
  it('says when libuv has fewer threads than images decoded at once', () => {
    expect(threadpoolShortfall(4, {})).toBeUndefined();
    expect(threadpoolShortfall(16, {})).toContain('UV_THREADPOOL_SIZE is 4, fewer than the 16');
    expect(threadpoolShortfall(16, { UV_THREADPOOL_SIZE: '18' })).toBeUndefined();
  });
});
