import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from '@labelq/shared/config';
import { errorCodes, type ErrorCode } from '@labelq/shared/errors';

/**
 * docs/error-codes.md lists every code of shared/src/errors.ts with its kind, and nothing else: a code added,
 * removed or moved to another kind without the page changing fails here.
 */
const page = readFileSync(new URL('../docs/error-codes.md', import.meta.url), 'utf8');

/** Rows of the codes table: | `CODE` | kind | when | retried? | */
const rowPattern = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*([^|]*?)\s*\|/gm;
const documentedKinds = new Map<string, string[]>();
for (const match of page.matchAll(rowPattern)) {
  const [, code, kind] = match as unknown as [string, string, string];
  documentedKinds.set(code, [...(documentedKinds.get(code) ?? []), kind]);
}

const knownCodes = Object.keys(errorCodes) as ErrorCode[];
const environmentVariables = new Set<string>(Object.values(settings).map((setting) => setting.env));

describe('docs/error-codes.md', () => {
  it.each(knownCodes)('lists %s once, with its kind', (code) => {
    expect(page).toContain(`\`${code}\``);
    expect(documentedKinds.get(code), `no table row for ${code}`).toEqual([errorCodes[code]]);
  });

  it('has no table row for a code errors.ts does not define', () => {
    const unknown = [...documentedKinds.keys()].filter((code) => !(code in errorCodes));
    expect(unknown).toEqual([]);
  });

  it('names no unknown code anywhere in its text (upper-case names in backticks are codes or settings)', () => {
    const named = [...page.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((match) => match[1] as string);
    const unknown = named.filter((name) => !(name in errorCodes) && !environmentVariables.has(name));
    expect(unknown).toEqual([]);
  });

  it('uses only the four kinds of errors.ts', () => {
    const kinds = new Set(Object.values(errorCodes) as string[]);
    const documented = [...documentedKinds.values()].flat();
    expect(documented.filter((kind) => !kinds.has(kind))).toEqual([]);
  });
});
