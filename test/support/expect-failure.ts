import { expect } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';

/** Awaits a promise that must reject with a LabelqError, and returns that error for more assertions. */
export async function labelqFailure(promise: Promise<unknown>): Promise<LabelqError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LabelqError);
    return error as LabelqError;
  }
  throw new Error('expected the promise to reject with a LabelqError');
}
