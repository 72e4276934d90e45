import type { Readable } from 'node:stream';
import { manifestEntryBatches } from './manifest-source.ts';
import type { Source } from './source-types.ts';

/**
 * Standard input ("-"): one URI per line, or one JSON object with a "uri" per line (both may be mixed).
 * It can be read only once, so strict mode keeps the checked URIs in memory until all lines are checked.
 */
export function stdinSource(stdin: Readable): Source {
  return {
    description: 'standard input',
    writtenLines: true,
    rereadable: false,
    batches: () => manifestEntryBatches(stdin, 'mixed'),
  };
}
