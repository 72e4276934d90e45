import type { SourceEntry } from './source-types.ts';

/**
 * How one manifest line becomes an entry:
 * - `text` (.txt): the line, trimmed, is a URI;
 * - `jsonl` (.jsonl, .ndjson): the line is a JSON object with a string "uri" (other fields are ignored);
 * - `mixed` (standard input, other files): a line starting with "{" is read as JSON, any other as text.
 * Blank lines and lines starting with "#" are skipped in every format (undefined is returned).
 */
export type ManifestFormat = 'text' | 'jsonl' | 'mixed';

export function parseManifestLine(text: string, line: number, format: ManifestFormat): SourceEntry | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  if (format === 'jsonl' || (format === 'mixed' && trimmed.startsWith('{'))) return parseJsonLine(trimmed, line);
  return { uri: trimmed, line };
}

function parseJsonLine(text: string, line: number): SourceEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { uri: text, line, problem: `it is not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { uri: text, line, problem: 'it is not a JSON object like {"uri": "s3://bucket/key.jpg"}' };
  }
  const uri = (value as Record<string, unknown>)['uri'];
  if (typeof uri !== 'string') {
    return { uri: text, line, problem: 'its JSON object has no string field "uri"' };
  }
  return { uri, line };
}
