/**
 * Writes BENCHMARKS.md and an SVG chart of the ratios.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { formatOps, type RowResult } from './harness.js';

/** A measured figure that is not a ratio (e.g. bytes per token). */
export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly value: number;
  readonly unit: string;
  /** The target and whether lower is better. */
  readonly target?: { readonly value: number; readonly lowerIsBetter: boolean };
}

function met(r: { ratio: number; target?: number }): string {
  if (r.target === undefined) return '';
  return r.ratio >= r.target ? 'yes' : '**no**';
}

/** The Markdown report. */
export function renderMarkdown(
  rows: readonly RowResult[],
  figures: readonly Figure[],
  mode: string,
): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpu}), Node ${process.version}, ${mode}.`,
    'Each row runs the subject and its baseline interleaved in the same process; ops/s is the median',
    'of the runs with the min–max range; the ratio is the median of the per-run ratios. Regenerate with',
    '`npm run bench` (services started), or `npm run bench -- --quick` for a smoke run.',
    '',
    '![ratios](bench/ratios.svg)',
    '',
    '| row | Tessera | ops/s (min–max) | baseline | ops/s (min–max) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.title} | ${r.subjectName} | ${formatOps(r.subject.median)} (${formatOps(r.subject.min)}–${formatOps(r.subject.max)}) | ${r.baselineName} | ${formatOps(r.baseline.median)} (${formatOps(r.baseline.min)}–${formatOps(r.baseline.max)}) | ${r.ratio.toFixed(2)}x | ${r.target === undefined ? '' : `>= ${r.target}x`} | ${met(r)} |`,
    ),
    '',
  ];
  if (figures.length > 0) {
    lines.push('| figure | value | target | met |', '| --- | --- | --- | --- |');
    for (const f of figures) {
      const ok =
        f.target === undefined
          ? ''
          : (f.target.lowerIsBetter ? f.value <= f.target.value : f.value >= f.target.value)
            ? 'yes'
            : '**no**';
      const target =
        f.target === undefined
          ? ''
          : `${f.target.lowerIsBetter ? '<=' : '>='} ${f.target.value} ${f.unit}`;
      lines.push(`| ${f.title} | ${f.value.toFixed(0)} ${f.unit} | ${target} | ${ok} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}

/** A horizontal bar chart of the ratios (log scale), with each target marked. */
export function renderSvg(rows: readonly RowResult[]): string {
  const width = 900;
  const barH = 26;
  const left = 330;
  const top = 40;
  const height = top + rows.length * (barH + 10) + 40;
  const maxRatio = Math.max(2, ...rows.map((r) => r.ratio), ...rows.map((r) => r.target ?? 0));
  const minRatio = Math.min(0.1, ...rows.map((r) => r.ratio));
  const lo = Math.log10(minRatio);
  const hi = Math.log10(maxRatio * 1.2);
  const x = (v: number) => left + ((Math.log10(v) - lo) / (hi - lo)) * (width - left - 30);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">Tessera / baseline (log scale; marks: targets)</text>`,
    `<line x1="${x(1)}" y1="${top - 8}" x2="${x(1)}" y2="${height - 30}" stroke="#999" stroke-dasharray="3,3"/>`,
    `<text x="${x(1) + 3}" y="${height - 16}" fill="#666">1x</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 10);
    const ok = r.target === undefined || r.ratio >= r.target;
    parts.push(
      `<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${escapeXml(r.title)}</text>`,
      `<rect x="${x(minRatio)}" y="${y}" width="${Math.max(1, x(r.ratio) - x(minRatio))}" height="${barH}" fill="${ok ? '#3a7' : '#d64'}"/>`,
      `<text x="${x(r.ratio) + 4}" y="${y + barH / 2 + 4}">${r.ratio.toFixed(2)}x</text>`,
    );
    if (r.target !== undefined) {
      parts.push(
        `<line x1="${x(r.target)}" y1="${y - 3}" x2="${x(r.target)}" y2="${y + barH + 3}" stroke="black" stroke-width="2"/>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Write both files. */
export function writeReport(
  rows: readonly RowResult[],
  figures: readonly Figure[],
  mode: string,
  dir = '.',
): void {
  writeFileSync(`${dir}/BENCHMARKS.md`, renderMarkdown(rows, figures, mode));
  writeFileSync(`${dir}/bench/ratios.svg`, renderSvg(rows));
}
