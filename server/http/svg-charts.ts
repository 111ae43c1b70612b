/**
 * Bar and line charts for server-rendered pages, without a charting library
 * or client script (the CSP allows none inline, and the regulators' console
 * must work with scripts off). This module only computes geometry: every
 * coordinate, tick and label the template needs, already placed. The
 * template (views/fund/console/dashboard.hbs) draws it with escaped
 * `{{ }}` only, so no chart text can ever become markup.
 *
 * Accessibility: the chart is one `role="img"` labelled by its <title> and
 * <desc> (the desc says what is plotted and the extremes), and the same
 * numbers always come with it as an HTML table — a screen reader user, or
 * anyone who wants the exact figures, reads the table.
 */

export interface ChartSeries {
  name: string;
  values: number[];
}

export interface ChartInput {
  /** Unique on the page; lower-case letters, digits and hyphens (element ids derive from it). */
  id: string;
  title: string;
  /** One sentence on what is plotted; the extremes are appended to it. */
  desc: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: ChartSeries[];
  /** Full value text, for bar tooltips, the desc and the table (e.g. formatYuan). */
  format: (v: number) => string;
  /** Axis tick text (shorter); defaults to `format`. */
  tickFormat?: (v: number) => string;
  /** Further columns for the table only (figures derived from the plotted ones, e.g. a rate). */
  tableExtras?: { header: string; cells: string[] }[];
}

export interface ChartModel {
  kind: 'bar' | 'line';
  id: string;
  titleId: string;
  descId: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  /** The zero line (or the bottom axis when every value is positive). */
  baseline: { x1: number; x2: number; y: number };
  yTicks: { y: number; label: string; labelX: number }[];
  xTicks: { x: number; label: string; full: string; y: number; rotate: string }[];
  xAxisLabel: { x: number; y: number; text: string };
  yAxisLabel: { x: number; y: number; text: string; rotate: string };
  bars: { x: number; y: number; width: number; height: number; series: number; tip: string }[];
  lines: { series: number; points: string; dots: { cx: number; cy: number; tip: string }[] }[];
  legend: { series: number; name: string; x: number; y: number }[];
  empty: boolean;
  table: { caption: string; headers: string[]; rows: { label: string; cells: { text: string; value: number | null }[] }[] };
}

const WIDTH = 720;
const HEIGHT = 340;
const MARGIN = { left: 104, right: 16, top: 28, bottom: 84 };
/** Category labels longer than this are cut on the axis (the table has them whole). */
const LABEL_CHARS = 14;
const MAX_X_LABELS = 12;

/** A round step (1, 2 or 5 × 10ⁿ, at least 1) giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return Math.max(1, Math.round(step));
}

/** The y domain: it always includes 0 and ends on whole steps. */
export function niceDomain(values: number[]): { min: number; max: number; step: number } {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const step = niceStep(hi - lo);
  const min = Math.floor(lo / step) * step;
  const max = Math.max(Math.ceil(hi / step) * step, min + step);
  return { min, max, step };
}

const round = (n: number) => Math.round(n * 10) / 10;
/** Roughly how wide a label is at the axis font size: CJK characters are about twice as wide as Latin ones. */
const textWidth = (s: string) => Array.from(s).reduce((w, ch) => w + (ch.codePointAt(0)! >= 0x2e80 ? 12 : 7), 0);
const cut = (s: string) => (Array.from(s).length > LABEL_CHARS ? `${Array.from(s).slice(0, LABEL_CHARS - 1).join('')}…` : s);

function frame(kind: 'bar' | 'line', input: ChartInput) {
  if (!/^[a-z][a-z0-9-]*$/.test(input.id)) throw new Error(`chart id must be lower-case letters, digits and hyphens (got ${input.id})`);
  for (const s of input.series) {
    if (s.values.length !== input.categories.length) throw new Error(`chart ${input.id}: series ${s.name} has ${s.values.length} values for ${input.categories.length} categories`);
    if (!s.values.every(Number.isFinite)) throw new Error(`chart ${input.id}: series ${s.name} has a value that is not a finite number`);
  }
  const all = input.series.flatMap((s) => s.values);
  const domain = niceDomain(all);
  const plot = { left: MARGIN.left, top: MARGIN.top, right: WIDTH - MARGIN.right, bottom: HEIGHT - MARGIN.bottom };
  const yOf = (v: number) => round(plot.bottom - ((v - domain.min) / (domain.max - domain.min)) * (plot.bottom - plot.top));
  const tick = input.tickFormat ?? input.format;
  const yTicks = [];
  for (let v = domain.min; v <= domain.max; v += domain.step) yTicks.push({ y: yOf(v), label: tick(v), labelX: plot.left - 8 });
  const n = Math.max(1, input.categories.length);
  const band = (plot.right - plot.left) / n;
  const centre = (i: number) => round(plot.left + band * (i + 0.5));
  // At most MAX_X_LABELS labels (a long time series labels every k-th point), slanted only when they would collide flat.
  const every = Math.ceil(n / MAX_X_LABELS);
  const shown = (i: number) => i % every === 0 || i === n - 1;
  const slant = input.categories.some((c, i) => shown(i) && textWidth(cut(c)) > band * every);
  const xTicks = input.categories.map((c, i) => ({
    x: centre(i), label: shown(i) ? cut(c) : '', full: c, y: plot.bottom + 16, rotate: slant ? `rotate(-35 ${centre(i)} ${plot.bottom + 16})` : '',
  }));
  const extremes = extremesText(input, all);
  return {
    kind, id: input.id, titleId: `${input.id}-title`, descId: `${input.id}-desc`, title: input.title,
    desc: extremes ? `${input.desc} ${extremes}` : input.desc,
    width: WIDTH, height: HEIGHT, plot,
    baseline: { x1: plot.left, x2: plot.right, y: yOf(0) },
    yTicks, xTicks,
    xAxisLabel: { x: round((plot.left + plot.right) / 2), y: HEIGHT - 8, text: input.xLabel },
    yAxisLabel: { x: 16, y: round((plot.top + plot.bottom) / 2), text: input.yLabel, rotate: `rotate(-90 16 ${round((plot.top + plot.bottom) / 2)})` },
    legend: input.series.length > 1 ? input.series.map((s, i) => ({ series: i, name: s.name, x: plot.left + i * 180, y: 14 })) : [],
    empty: input.categories.length === 0,
    table: {
      caption: input.title,
      headers: [input.xLabel, ...input.series.map((s) => s.name), ...(input.tableExtras ?? []).map((x) => x.header)],
      rows: input.categories.map((label, i) => ({
        label,
        cells: [
          ...input.series.map((s) => ({ text: input.format(s.values[i]!), value: s.values[i]! as number | null })),
          ...(input.tableExtras ?? []).map((x) => ({ text: x.cells[i] ?? '', value: null })),
        ],
      })),
    },
    yOf, band, centre,
  };
}

/** "Highest: X (cat); lowest: Y (cat)." over all series — what a sighted reader takes from the chart at a glance. */
function extremesText(input: ChartInput, all: number[]): string {
  if (!all.length) return '';
  let hi = { v: -Infinity, at: '' };
  let lo = { v: Infinity, at: '' };
  for (const s of input.series) {
    s.values.forEach((v, i) => {
      const at = input.series.length > 1 ? `${input.categories[i]} · ${s.name}` : input.categories[i]!;
      if (v > hi.v) hi = { v, at };
      if (v < lo.v) lo = { v, at };
    });
  }
  return `↑ ${input.format(hi.v)} (${hi.at}); ↓ ${input.format(lo.v)} (${lo.at}).`;
}

function strip(f: ReturnType<typeof frame>): Omit<typeof f, 'yOf' | 'band' | 'centre'> {
  const { yOf: _y, band: _b, centre: _c, ...model } = f;
  return model;
}

/** Grouped vertical bars: one group per category, one bar per series, from the zero line. */
export function barChart(input: ChartInput): ChartModel {
  const f = frame('bar', input);
  const groups = Math.max(1, input.series.length);
  const inner = f.band * 0.7;
  const barWidth = round(inner / groups);
  const bars = input.categories.flatMap((c, i) => input.series.map((s, k) => {
    const v = s.values[i]!;
    const top = Math.min(f.yOf(v), f.yOf(0));
    return {
      x: round(f.centre(i) - inner / 2 + k * barWidth), y: top, width: Math.max(1, barWidth - 1), height: round(Math.abs(f.yOf(v) - f.yOf(0))),
      series: k, tip: `${c}${groups > 1 ? ` · ${s.name}` : ''}: ${input.format(v)}`,
    };
  }));
  return { ...strip(f), bars, lines: [] };
}

/** One polyline per series through the category centres, with a dot (and tooltip) per point. */
export function lineChart(input: ChartInput): ChartModel {
  const f = frame('line', input);
  const lines = input.series.map((s, k) => {
    const dots = s.values.map((v, i) => ({ cx: f.centre(i), cy: f.yOf(v), tip: `${input.categories[i]}: ${input.format(v)}` }));
    return { series: k, points: dots.map((d) => `${d.cx},${d.cy}`).join(' '), dots };
  });
  return { ...strip(f), bars: [], lines };
}
