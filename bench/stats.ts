/** Small statistics and table helpers for the benchmark report. */

export interface Stats {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent: the spread over the rounds. */
  spreadPct: number;
  n: number;
}

export function stats(xs: readonly number[]): Stats | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  const min = v[0]!;
  const max = v[v.length - 1]!;
  return { median, min, max, spreadPct: median ? ((max - min) / Math.abs(median)) * 100 : 0, n: v.length };
}

/** Ratio "tsepics is better" > 1: a/b for higher-is-better figures, b/a for lower-is-better ones. */
export function betterRatio(ours: number, theirs: number, better: 'higher' | 'lower'): number {
  return better === 'higher' ? ours / theirs : theirs / ours;
}

/** A number with about 3-4 significant digits. */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

export function fmtStats(s: Stats | undefined): string {
  if (!s) return '–';
  return `${fmt(s.median)} ±${s.spreadPct.toFixed(0)}%`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
