/**
 * A small hand-written SVG line chart (two panels side by side). No charting library: the bench needs two
 * plain line charts written to a file without a browser or a canvas, and the libraries that do that in Node
 * (vega, chart.js + node-canvas) bring native builds or tens of MB for ~100 lines of markup.
 */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** log2 spacing suits batch sizes and worker counts (1, 2, 4, ...). */
  logX: boolean;
  series: Series[];
}

const width = 460;
const height = 340;
const margin = { left: 64, right: 16, top: 36, bottom: 96 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function panelSvg(panel: Panel, offsetX: number): string {
  const all = panel.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (all.length === 0) return `<text x="${offsetX + 20}" y="60">${escapeXml(panel.title)}: not measured</text>`;
  const xs = all.map((p) => p.x);
  const fx = (x: number): number => (panel.logX ? Math.log2(x) : x);
  const xMin = Math.min(...xs.map(fx));
  const xMax = Math.max(...xs.map(fx));
  const yMax = niceMax(Math.max(...all.map((p) => p.y)));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number): number => offsetX + margin.left + (xMax === xMin ? plotW / 2 : ((fx(x) - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number): number => margin.top + plotH - (y / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + width / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = Number(((yMax * i) / 5).toPrecision(3));
    parts.push(`<line x1="${offsetX + margin.left}" x2="${offsetX + width - margin.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${offsetX + margin.left - 6}" y="${sy(y) + 4}" text-anchor="end">${y}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${sx(x)}" y="${margin.top + plotH + 16}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<text x="${offsetX + margin.left + plotW / 2}" y="${margin.top + plotH + 34}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(${offsetX + 14},${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((series, index) => {
    const points = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (points.length > 0) {
      const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      for (const p of points) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${series.color}"/>`);
    }
    const legendY = margin.top + plotH + 50 + index * 14;
    const legendX = offsetX + margin.left;
    parts.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text x="${legendX + 22}" y="${legendY}">${escapeXml(series.name)}</text>`);
  });
  return parts.join('\n');
}

export function lineChartsSvg(panels: Panel[], caption: string): string {
  const totalW = width * panels.length;
  const totalH = height + 22;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * width)),
    `<text x="8" y="${totalH - 6}" fill="#555">${escapeXml(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
