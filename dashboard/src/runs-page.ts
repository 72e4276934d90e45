/**
 * The runs view: one HTML page whose script reads /api/runs and /api/runs/:run every few seconds. Everything that
 * comes from records or Redis is put into the page as text (textContent), never as HTML.
 */
export const runsPageRefreshMs = 3_000;

const style = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header a { color: #b9c7ff; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  th { font-weight: 600; color: #566; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  tr.selected { background: #eef3ff; }
  .bar { background: #e4e7ee; border-radius: 3px; height: 10px; width: 160px; overflow: hidden; display: inline-block; }
  .bar > span { display: block; height: 100%; background: #3b6fe0; }
  .numbers { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
  .numbers div { background: #f6f7f9; border-radius: 4px; padding: 6px 8px; }
  .numbers b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
  figure { margin: 0; border: 1px solid #eef0f4; border-radius: 4px; padding: 6px; }
  figure img { width: 100%; height: 140px; object-fit: cover; background: #eee; display: block; }
  figcaption { font-size: 12px; word-break: break-all; }
  figcaption ol { margin: 4px 0 0; padding-left: 18px; }
  .muted { color: #778; }
  .error { color: #a11; }
  svg text { font-size: 11px; fill: #566; }
`;

const script = String.raw`
const refreshMs = ${runsPageRefreshMs};
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
const fmt = (n) => (n === undefined || n === null ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(1));
const when = (ms) => (ms === undefined || ms === null ? '-' : new Date(ms).toLocaleString());
const percent = (s) => (s.images === 0 ? 0 : (100 * s.imagesDone) / s.images);
let selected = new URLSearchParams(location.search).get('run');

async function getJson(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : response.statusText);
  return body;
}

function progressBar(s) {
  return el('span', { class: 'bar', title: percent(s).toFixed(1) + ' %' }, el('span', { style: 'width:' + percent(s).toFixed(1) + '%' }));
}

function renderRuns(runs) {
  const body = document.querySelector('#runs tbody');
  body.replaceChildren();
  for (const s of runs) {
    const link = el('a', { href: '?run=' + encodeURIComponent(s.meta.run), 'data-run-link': s.meta.run }, s.meta.run);
    link.addEventListener('click', (event) => { event.preventDefault(); selected = s.meta.run; history.replaceState(null, '', '?run=' + encodeURIComponent(selected)); refresh(); });
    const row = el('tr', { 'data-run': s.meta.run, class: s.meta.run === selected ? 'selected' : '' },
      el('td', {}, link), el('td', { class: 'state' }, s.state), el('td', {}, progressBar(s), ' ', percent(s).toFixed(1) + ' %'),
      el('td', { class: 'n' }, s.imagesDone + ' / ' + s.images), el('td', { class: 'n' }, s.imagesQueued), el('td', { class: 'n' }, s.imagesInProgress),
      el('td', { class: 'n' }, s.jobsFailed), el('td', { class: 'n' }, s.itemErrors), el('td', { class: 'n' }, fmt(s.imagesPerSecond)),
      el('td', { class: 'muted' }, when(s.meta.createdAtMs)));
    body.append(row);
  }
  document.querySelector('#no-runs').hidden = runs.length > 0;
}

const fields = [
  ['state', 'state'], ['images', 'images'], ['imagesDone', 'done'], ['imagesQueued', 'queued'], ['imagesInProgress', 'in progress'],
  ['itemErrors', 'error records'], ['jobs', 'jobs'], ['jobsDone', 'jobs done'], ['jobsFailed', 'failed jobs'],
  ['imagesInFailedJobs', 'images in failed jobs'], ['imagesPerSecond', 'images/s'],
];

function renderNumbers(s) {
  const box = document.querySelector('#numbers');
  box.replaceChildren(...fields.map(([key, label]) => el('div', {}, el('b', { 'data-run-field': key }, typeof s[key] === 'number' ? fmt(s[key]) : s[key]), label)));
  document.querySelector('#run-title').textContent = 'Run ' + s.meta.run;
  document.querySelector('#run-meta').textContent = 'source ' + s.meta.source + ' · records in ' + s.meta.out + ' · started ' + when(s.startedAtMs) + ' · last done ' + when(s.lastDoneAtMs);
  document.querySelector('#run-progress').replaceChildren(progressBar(s), ' ' + percent(s).toFixed(1) + ' % of images have records');
}

function renderThroughput(t) {
  const box = document.querySelector('#throughput');
  if (t.points.length === 0) { box.replaceChildren(el('p', { class: 'muted' }, 'No completed jobs yet.')); return; }
  const ns = 'http://www.w3.org/2000/svg';
  const width = 720, height = 160, left = 50, bottom = 20;
  const rates = t.points.map((p) => (p.images * 1000) / t.bucketMs);
  const max = Math.max(...rates, 1e-9);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  svg.setAttribute('width', '100%');
  svg.setAttribute('data-throughput-buckets', String(t.points.length));
  const barWidth = (width - left) / t.points.length;
  rates.forEach((rate, i) => {
    const h = ((height - bottom - 10) * rate) / max;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', String(left + i * barWidth + 1));
    rect.setAttribute('y', String(height - bottom - h));
    rect.setAttribute('width', String(Math.max(1, barWidth - 2)));
    rect.setAttribute('height', String(h));
    rect.setAttribute('fill', '#3b6fe0');
    const title = document.createElementNS(ns, 'title');
    title.textContent = new Date(t.points[i].atMs).toLocaleTimeString() + ': ' + rate.toFixed(1) + ' images/s';
    rect.append(title);
    svg.append(rect);
  });
  const text = (x, y, content, anchor) => { const node = document.createElementNS(ns, 'text'); node.setAttribute('x', x); node.setAttribute('y', y); node.setAttribute('text-anchor', anchor); node.textContent = content; svg.append(node); };
  text(left - 4, 14, max.toFixed(1), 'end');
  text(left - 4, height - bottom, '0', 'end');
  text(left, height - 4, new Date(t.points[0].atMs).toLocaleTimeString(), 'start');
  text(width, height - 4, new Date(t.points[t.points.length - 1].atMs + t.bucketMs).toLocaleTimeString(), 'end');
  box.replaceChildren(el('p', { class: 'muted' }, 'images/s per ' + t.bucketMs / 1000 + ' s, from ' + t.jobsCounted + ' completed jobs'), svg);
}

function renderFailures(run) {
  const jobs = document.querySelector('#failed-jobs tbody');
  jobs.replaceChildren(...run.failedJobs.map((f) => el('tr', {}, el('td', { class: 'n' }, f.chunk), el('td', { class: 'error' }, f.reason))));
  document.querySelector('#failed-jobs').hidden = run.failedJobs.length === 0;
  const items = document.querySelector('#item-errors tbody');
  items.replaceChildren(...run.sample.itemErrors.map((e) => el('tr', {}, el('td', {}, e.uri), el('td', { class: 'error' }, e.code), el('td', {}, e.message))));
  document.querySelector('#item-errors').hidden = run.sample.itemErrors.length === 0;
  document.querySelector('#no-failures').hidden = run.failedJobs.length > 0 || run.sample.itemErrors.length > 0;
}

let shownPredictions = '';
function renderPredictions(run) {
  const grid = document.querySelector('#predictions');
  const key = JSON.stringify(run.sample.predictions);
  if (key === shownPredictions) return; // unchanged: keep the images that are loaded
  shownPredictions = key;
  const image = (p) => {
    const img = el('img', { src: p.thumbnail, alt: 'image not shown (missing, unreadable or over the size cap)', loading: 'lazy' });
    img.addEventListener('error', () => { img.title = img.alt; });
    return img;
  };
  grid.replaceChildren(...run.sample.predictions.map((p) => el('figure', { 'data-prediction': p.uri }, image(p),
    el('figcaption', {}, el('div', { class: 'muted' }, p.uri.split('/').pop()),
      el('ol', {}, ...p.top.map((t) => el('li', {}, t.label + ' ' + (100 * t.p).toFixed(1) + ' %')))))));
  document.querySelector('#sample-note').textContent = run.sample.recordObjectsRead + ' of ' + run.sample.recordObjects + ' record objects read (newest chunks first)';
}

async function refresh() {
  try {
    const { runs } = await getJson('api/runs');
    if (selected === null && runs.length > 0) selected = runs[0].meta.run;
    renderRuns(runs);
    document.querySelector('#run').hidden = selected === null;
    if (selected !== null) {
      const run = await getJson('api/runs/' + encodeURIComponent(selected));
      renderNumbers(run.status);
      renderThroughput(run.throughput);
      renderFailures(run);
      renderPredictions(run);
    }
    document.querySelector('#problem').textContent = '';
    document.body.dataset.loaded = 'true';
  } catch (error) {
    document.querySelector('#problem').textContent = String(error.message || error);
  }
}
refresh();
setInterval(refresh, refreshMs);
`;

/** The runs view's HTML. */
export function runsPageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>labelq runs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style>
</head>
<body>
<header><h1>labelq</h1><a href="./">Runs</a><a href="queues">Queue (bull-board)</a><a href="metrics">Queue metrics</a><span id="problem" class="error"></span></header>
<main>
<section>
<h2>Runs</h2>
<table id="runs"><thead><tr><th>run</th><th>state</th><th>progress</th><th class="n">done / images</th><th class="n">queued</th><th class="n">in progress</th><th class="n">failed jobs</th><th class="n">error records</th><th class="n">images/s</th><th>created</th></tr></thead><tbody></tbody></table>
<p id="no-runs" class="muted" hidden>No runs in this queue yet.</p>
</section>
<div id="run" hidden>
<section><h2 id="run-title"></h2><p id="run-meta" class="muted"></p><p id="run-progress"></p><div id="numbers" class="numbers"></div></section>
<section><h2>Throughput</h2><div id="throughput"></div></section>
<section><h2>Recent failures</h2>
<p id="no-failures" class="muted">No failed jobs, and no error records among the records read.</p>
<table id="failed-jobs" hidden><thead><tr><th class="n">chunk</th><th>why the job failed</th></tr></thead><tbody></tbody></table>
<table id="item-errors" hidden><thead><tr><th>image</th><th>code</th><th>message</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Predictions</h2><p id="sample-note" class="muted"></p><div id="predictions" class="grid"></div></section>
</div>
</main>
<script>${script}</script>
</body>
</html>
`;
}
