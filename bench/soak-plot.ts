/**
 * A hand-written SVG plot of the soak's samples (bench/soak.ts): one panel per measure against
 * time, no dependency.
 *
 * @module
 */

/** One soak sample (also a CSV row). */
export interface Sample {
  t: number;
  phase: string;
  rssMiB: number;
  heapMiB: number;
  /** V8's code space after GC (JIT output: part of `heapMiB`, not objects the peers hold). */
  codeMiB: number;
  handles: number;
  fds: number;
  lagP99Ms: number;
  lagMaxMs: number;
  connections: number;
  fullMesh: number;
  deliveredPerS: number;
  restarts: number;
}

type Numeric = Exclude<keyof Sample, 'phase'>;

const PANELS: readonly { title: string; series: readonly [Numeric, string][] }[] = [
  {
    title: 'memory (MiB)',
    series: [
      ['rssMiB', '#1f77b4'],
      ['heapMiB', '#d62728'],
    ],
  },
  {
    title: 'open handles and fds',
    series: [
      ['handles', '#2ca02c'],
      ['fds', '#9467bd'],
    ],
  },
  {
    title: 'event-loop lag (ms)',
    series: [
      ['lagP99Ms', '#ff7f0e'],
      ['lagMaxMs', '#8c564b'],
    ],
  },
  {
    title: 'connections',
    series: [
      ['connections', '#17becf'],
      ['fullMesh', '#7f7f7f'],
    ],
  },
  { title: 'delivered messages/s', series: [['deliveredPerS', '#e377c2']] },
];

const W = 900;
const PH = 150;
const GAP = 40;
const L = 70;
const R = 20;
const TOP = 40;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : String(Number(x.toPrecision(3)));

/** The SVG text of `samples`, with a title and the end of warm-up (s) marked. */
export function svg(samples: readonly Sample[], title: string, warmupS: number): string {
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const x = (t: number): number => L + ((W - L - R) * t) / tMax;
  const out: string[] = [];
  const height = TOP + PANELS.length * (PH + GAP);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${L}" y="20" font-size="13">${esc(title)}</text>`,
  );
  PANELS.forEach((panel, i) => {
    const y0 = TOP + i * (PH + GAP);
    const values = panel.series.flatMap(([k]) => samples.map((s) => s[k]));
    const vMax = Math.max(1, ...values) * 1.05;
    const vMin = Math.min(0, ...values);
    const y = (v: number): number => y0 + PH - (PH * (v - vMin)) / (vMax - vMin);
    out.push(
      `<rect x="${L}" y="${y0}" width="${W - L - R}" height="${PH}" fill="none" stroke="#ccc"/>`,
      `<text x="${L}" y="${y0 - 6}">${esc(panel.title)}</text>`,
    );
    for (let g = 0; g <= 4; g++) {
      const v = vMin + ((vMax - vMin) * g) / 4;
      out.push(
        `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
        `<text x="${L - 4}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
      );
    }
    if (warmupS > 0 && warmupS < tMax) {
      out.push(
        `<line x1="${x(warmupS)}" x2="${x(warmupS)}" y1="${y0}" y2="${y0 + PH}" stroke="#aaa" stroke-dasharray="4 3"/>`,
      );
    }
    panel.series.forEach(([k, color], j) => {
      const pts = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[k]).toFixed(1)}`).join(' ');
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts}"/>`,
        `<text x="${W - R - 110 * (panel.series.length - j)}" y="${y0 - 6}" fill="${color}">${k}</text>`,
      );
    });
    out.push(`<text x="${W - R}" y="${y0 + PH + 14}" text-anchor="end">${fmt(tMax)} s</text>`);
    out.push(`<text x="${L}" y="${y0 + PH + 14}">0 s</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
