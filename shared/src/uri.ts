import { fileURLToPath } from 'node:url';
import { LabelqError } from './errors.ts';

/**
 * Item URIs: what a producer accepts and a worker fetches.
 *   s3://bucket/key            an object in the configured S3-compatible store (the key is taken literally,
 *                              no percent-decoding, as the AWS CLI does)
 *   http://… or https://…      fetched over HTTP
 *   file:///absolute/path      a file on the worker's file system (percent-decoded, as file URLs are)
 *   /absolute/path             the same, written as a plain path
 */
export type ItemUri =
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'http'; url: URL }
  | { kind: 'file'; path: string };

export const acceptedUriForms = 's3://bucket/key, http://, https://, file:///absolute/path or an absolute path';

const schemePattern = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// eslint-disable-next-line no-control-regex
const controlCharacterPattern = /[\u0000-\u001f\u007f]/;
const maxShownLength = 200;

/** The URI as shown in messages: quoted, and cut when very long. */
function shown(uri: string): string {
  const cut = uri.length > maxShownLength ? `${uri.slice(0, maxShownLength)}…` : uri;
  return JSON.stringify(cut);
}

function invalid(uri: string, why: string): LabelqError {
  return new LabelqError('URI_INVALID', `The URI ${shown(uri)} is not valid: ${why}.`);
}

/**
 * Parses and checks one item URI. Throws LabelqError URI_UNSUPPORTED_SCHEME for a scheme labelq cannot fetch,
 * URI_INVALID for anything else that is wrong (empty, relative path, s3:// without a key, surrounding whitespace,
 * control characters).
 */
export function parseItemUri(uri: string): ItemUri {
  if (typeof uri !== 'string' || uri.length === 0) throw invalid(String(uri ?? ''), 'it is empty');
  if (uri.trim() !== uri) throw invalid(uri, 'it starts or ends with whitespace');
  if (controlCharacterPattern.test(uri)) throw invalid(uri, 'it contains a control character (a tab, a line break or similar)');

  if (uri.startsWith('/')) {
    if (uri.endsWith('/')) throw invalid(uri, 'it ends with "/", so it names a folder, not a file');
    return { kind: 'file', path: uri };
  }

  if (uri.startsWith('s3://')) return parseS3(uri); // the common case, without a regular expression
  const scheme = schemePattern.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw invalid(uri, `it is a relative path or has no scheme; use ${acceptedUriForms}`);
  }
  switch (scheme) {
    case 's3':
      return parseS3(uri);
    case 'http':
    case 'https':
      return parseHttp(uri);
    case 'file':
      return parseFile(uri);
    default:
      throw new LabelqError(
        'URI_UNSUPPORTED_SCHEME',
        `The URI ${shown(uri)} uses the scheme "${scheme}:", which labelq cannot fetch; use ${acceptedUriForms}.`,
      );
  }
}

function parseS3(uri: string): ItemUri {
  // "s3://" is 5 characters; the scheme was matched case-insensitively.
  if (uri.charCodeAt(3) !== 0x2f || uri.charCodeAt(4) !== 0x2f) throw invalid(uri, 'an S3 URI is written s3://bucket/key');
  const slash = uri.indexOf('/', 5);
  const bucket = slash === -1 ? uri.slice(5) : uri.slice(5, slash);
  const key = slash === -1 ? '' : uri.slice(slash + 1);
  if (bucket === '') throw invalid(uri, 'it names no bucket (s3://bucket/key)');
  if (/\s/.test(bucket)) throw invalid(uri, 'its bucket name contains whitespace');
  if (key === '') throw invalid(uri, 'it names a bucket but no object key (s3://bucket/key)');
  if (key.endsWith('/')) throw invalid(uri, 'it ends with "/", so it names a folder, not an object');
  return { kind: 's3', bucket, key };
}

function parseHttp(uri: string): ItemUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid(uri, 'it is not a well-formed URL');
  }
  if (url.hostname === '') throw invalid(uri, 'it names no host');
  return { kind: 'http', url };
}

function parseFile(uri: string): ItemUri {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (error) {
    throw invalid(uri, `a file URL is written file:///absolute/path (${(error as Error).message})`);
  }
  if (path === '/' || path.endsWith('/')) throw invalid(uri, 'it names a folder, not a file');
  return { kind: 'file', path };
}
