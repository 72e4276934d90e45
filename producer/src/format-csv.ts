import { isErrorRecord, type ResultRecord } from '@labelq/shared/record';

/** Columns of `labelq results --format csv`; top_k is the whole top-k list as JSON. */
export const csvColumns = ['uri', 'run', 'top1_index', 'top1_wnid', 'top1_label', 'top1_p', 'top_k', 'error_code', 'error_message'] as const;

/** One CSV field, quoted (RFC 4180) when it holds a comma, a quote, a line break or surrounding spaces. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly (string | number | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function csvHeader(): string {
  return csvRow(csvColumns);
}

export function recordToCsvRow(record: ResultRecord): string {
  if (isErrorRecord(record)) {
    return csvRow([record.uri, record.run, undefined, undefined, undefined, undefined, undefined, record.error.code, record.error.message]);
  }
  const top1 = record.top[0]!;
  return csvRow([record.uri, record.run, top1.index, top1.wnid, top1.label, top1.p, JSON.stringify(record.top), undefined, undefined]);
}
