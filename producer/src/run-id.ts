import { randomBytes } from 'node:crypto';
import { LabelqError } from '@labelq/shared/errors';
import { runIdSchema } from '@labelq/shared/job';

/** A new run id: `run-YYYYMMDD-HHMMSS-<4 hex>`, the time in UTC. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Checks a run id given by a person; throws CONFIG_INVALID naming the value and the rule. */
export function checkRunId(run: string): string {
  const result = runIdSchema.safeParse(run);
  if (!result.success) {
    throw new LabelqError('CONFIG_INVALID', `The run id ${JSON.stringify(run)} is not valid: ${result.error.issues.map((i) => i.message).join(', ')}.`);
  }
  return result.data;
}
