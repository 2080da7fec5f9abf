/**
 * Writes BENCHMARKS.md and an SVG chart of the ratios.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatOps, formatRatio, type RowResult, type SkippedRow } from './harness.js';

/** A measured figure that is not a ratio (e.g. bytes per token). */
export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly value: number;
  readonly unit: string;
  /** The target and whether lower is better. */
  readonly target?: { readonly value: number; readonly lowerIsBetter: boolean };
}

/** Whether a row meets its targets (ratio, and p99 where measured). */
function meets(r: RowResult): boolean {
  const ratioOk = r.target === undefined || r.ratio >= r.target;
  const p99Ok = r.p99?.maxRatio === undefined || r.p99.ratio <= r.p99.maxRatio;
  return ratioOk && p99Ok;
}

function met(r: RowResult): string {
  if (r.target === undefined && r.p99?.maxRatio === undefined) return '';
  return meets(r) ? 'yes' : '**no**';
}

function rate(s: RowResult['subject'], unit: string | undefined, p99Ms?: number): string {
  const p99 = p99Ms === undefined ? '' : `, p99 ${p99Ms.toFixed(1)} ms`;
  return `${formatOps(s.median)} ${unit ?? 'ops/s'} (${formatOps(s.min)}–${formatOps(s.max)})${p99}`;
}

function targetText(r: RowResult): string {
  const parts: string[] = [];
  if (r.target !== undefined) parts.push(`>= ${formatRatio(r.target)}`);
  if (r.p99?.maxRatio !== undefined) parts.push(`p99 <= ${r.p99.maxRatio}x`);
  return parts.join(', ');
}

/** What the report says about the run besides the rows. */
export interface ReportContext {
  /** How the rows were measured. */
  readonly mode: string;
  /** Load on the machine during the run. */
  readonly load: string;
}

/** The Markdown report. */
export function renderMarkdown(
  rows: readonly RowResult[],
  figures: readonly Figure[],
  skipped: readonly SkippedRow[],
  context: ReportContext,
): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpu}), ${gib} GiB RAM,`,
    `Node ${process.version}, ${context.mode}; ${context.load}.`,
    '',
    'Each row runs the subject (Tessera) and its baseline interleaved in the same process (the order',
    'alternates run by run); rates are the median of the runs with the min–max range; the ratio is the',
    'median of the per-run ratios (subject / baseline). Regenerate with `npm run bench` (Redis and',
    'PostgreSQL started; dynalite runs in process), or `npm run bench -- --quick` for a smoke run.',
    '',
    '![ratios](bench/ratios.svg)',
    '',
    '| row | Tessera | rate (min–max) | baseline | rate (min–max) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.title} | ${r.subjectName} | ${rate(r.subject, r.unit, r.p99?.subjectMs)} | ${r.baselineName} | ${rate(r.baseline, r.unit, r.p99?.baselineMs)} | ${formatRatio(r.ratio)}${r.p99 ? ` (p99 ${r.p99.ratio.toFixed(2)}x)` : ''} | ${targetText(r)} | ${met(r)} |`,
    ),
    ...skipped.map((s) => `| ${s.title} | skipped: ${s.skipped} | | | | | | |`),
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
  // Hand-written analysis (what bounds each missed target), kept across runs.
  const notes = join(import.meta.dirname, 'notes.md');
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trimEnd(), '');
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
    '<title>Tessera / baseline ratios per benchmark row</title>',
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">Tessera / baseline (log scale; marks: targets)</text>`,
    `<line x1="${x(1)}" y1="${top - 8}" x2="${x(1)}" y2="${height - 30}" stroke="#999" stroke-dasharray="3,3"/>`,
    `<text x="${x(1) + 3}" y="${height - 16}" fill="#666">1x</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 10);
    const ok = meets(r);
    parts.push(
      `<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${escapeXml(r.title)}</text>`,
      `<rect x="${x(minRatio)}" y="${y}" width="${Math.max(1, x(r.ratio) - x(minRatio))}" height="${barH}" fill="${ok ? '#3a7' : '#d64'}"/>`,
      `<text x="${x(r.ratio) + 4}" y="${y + barH / 2 + 4}">${formatRatio(r.ratio)}</text>`,
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

/**
 * Write BENCHMARKS.md and bench/ratios.svg, and bench/ratios.png when
 * `rsvg-convert` (librsvg2-bin) is installed.
 */
export function writeReport(
  rows: readonly RowResult[],
  figures: readonly Figure[],
  skipped: readonly SkippedRow[],
  context: ReportContext,
  dir = '.',
): void {
  writeFileSync(`${dir}/BENCHMARKS.md`, renderMarkdown(rows, figures, skipped, context));
  writeFileSync(`${dir}/bench/ratios.svg`, renderSvg(rows));
  try {
    execFileSync('rsvg-convert', ['-o', `${dir}/bench/ratios.png`, `${dir}/bench/ratios.svg`], {
      stdio: 'ignore',
    });
  } catch {
    // No converter: the SVG is the chart.
  }
}
