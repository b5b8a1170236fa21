// Loads one slableak picture in Debian's headless Chromium and prints what
// the DOM shows as one JSON object on stdout; the C++ tests
// (tests/integration/browser_test.cpp) assert on it.
//
//   node check_page.mjs --url URL --frame FUNCTION --screenshot PNG
//        [--wait-seconds N]   live page: reload until FUNCTION shows or N pass
//        [--hostile TEXT]     the page must show TEXT as text somewhere
//
// Everything is measured in the page as rendered: rectangle widths come from
// getBoundingClientRect, the search box is typed into, a box is clicked.
import { chromium } from 'playwright-core';

function args() {
  const a = {};
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
  return a;
}

const opt = args();
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const out = { url: opt.url, consoleErrors: [], pageErrors: [], requests: [], dialogs: [] };

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  // Root in CI: Chromium refuses to run its sandbox as root.
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-default-apps'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') out.consoleErrors.push(m.type() + ': ' + m.text()); });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('request', (r) => out.requests.push(r.url()));
  page.on('dialog', async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });

  const frameSel = `g.f[data-n^="${opt.frame}"]`;
  const deadline = Date.now() + 1000 * Number(opt['wait-seconds'] || 0);
  let response = await page.goto(opt.url, { waitUntil: 'load' });
  out.loads = 1;
  // A live page reloads itself at the export interval; follow it.
  while ((await page.locator(frameSel).count()) === 0 && Date.now() < deadline) {
    await page.waitForEvent('load', { timeout: Math.max(1, deadline - Date.now()) }).catch(() => {});
    out.loads++;
  }
  if (response && response.url().startsWith('http')) {
    out.status = response.status();
    out.headers = await response.allHeaders();
  }
  const svgSel = 'svg.flamegraph';
  out.isSvgDocument = await page.evaluate(() => document.documentElement.localName === 'svg');
  out.title = await page.title();

  // The held frame, its tower and the widths of every box.
  Object.assign(out, await page.evaluate(({ svgSel, frame }) => {
    const svg = document.querySelector(svgSel);
    if (!svg) return { flamegraph: false };
    const boxes = Array.from(svg.querySelectorAll('g.f')).map((g) => ({
      name: g.getAttribute('data-n'),
      x: Number(g.getAttribute('data-x')), w: Number(g.getAttribute('data-w')),
      d: Number(g.getAttribute('data-d')), o: Number(g.getAttribute('data-o')),
      px: g.querySelector('rect').getBoundingClientRect().width,
      label: g.querySelector('text').textContent,
    }));
    const all = boxes.find((b) => b.d === 0);
    const r = { flamegraph: true, boxes: boxes.length, totalBytes: all ? all.w : 0 };
    if (!all) return r;
    // Widths proportional to bytes, for boxes wide enough that 0.01 px of
    // rounding is far below 1%.
    let worst = 0, checked = 0;
    for (const b of boxes) {
      if (b.px < 2) continue;
      const want = b.w / all.w, got = b.px / all.px;
      worst = Math.max(worst, Math.abs(got - want) / want);
      checked++;
    }
    r.widthsChecked = checked;
    r.worstWidthError = worst;
    const held = boxes.filter((b) => b.name.startsWith(frame));
    r.frameBoxes = held.length;
    if (!held.length) return r;
    const f = held.reduce((a, b) => (b.w > a.w ? b : a));
    r.frameBytes = f.w; r.frameObjects = f.o; r.frameLabel = f.label;
    r.frameShare = f.w / all.w;
    // The tower the frame stands in: its box at depth 2 (just above its cache).
    const cache = boxes.find((b) => b.d === 1 && b.x <= f.x && f.x < b.x + b.w);
    const towers = boxes.filter((b) => b.d === 2 && b.x >= cache.x && b.x < cache.x + cache.w);
    const mine = towers.find((b) => b.x <= f.x && f.x < b.x + b.w);
    r.frameCache = cache.name;
    r.towerBytes = mine.w;
    r.widestTowerBytes = Math.max(...towers.map((b) => b.w));
    r.frameTowerIsWidest = mine.w === r.widestTowerBytes;
    r.frameTowerPx = Array.from(svg.querySelectorAll('g.f')).find((g) => Number(g.getAttribute('data-d')) === 2 &&
      Number(g.getAttribute('data-x')) === mine.x).querySelector('rect').getBoundingClientRect().width;
    return r;
  }, { svgSel, frame: opt.frame }));

  if (out.frameBoxes) {
    // Hover: the details line names the frame.
    const box = page.locator(frameSel).first();
    await box.hover();
    out.hoverDetails = await page.locator(`${svgSel} .details`).textContent();
    // Search: type the function; exactly the boxes whose name contains it light up.
    await page.locator(`${svgSel} input.search`).fill(opt.frame);
    Object.assign(out, await page.evaluate(({ svgSel, frame }) => {
      const gs = Array.from(document.querySelectorAll(`${svgSel} g.f`));
      const hl = gs.filter((g) => g.classList.contains('hl'));
      const want = gs.filter((g) => g.getAttribute('data-n').toLowerCase().includes(frame.toLowerCase()));
      const fill = hl.length ? getComputedStyle(hl[0].querySelector('rect')).fill : '';
      return {
        highlighted: hl.map((g) => g.getAttribute('data-n')),
        highlightExact: hl.length === want.length && hl.every((g) => want.includes(g)),
        highlightFill: fill,
        matchedText: document.querySelector(`${svgSel} .matched`).textContent,
      };
    }, { svgSel, frame: opt.frame }));
    // Click zooms: the frame's box then spans the whole graph width.
    await page.locator(`${svgSel} input.search`).fill('');
    await box.click();
    Object.assign(out, await page.evaluate(({ svgSel, frame }) => {
      const svg = document.querySelector(svgSel);
      const g = Array.from(svg.querySelectorAll('g.f')).filter((x) => x.getAttribute('data-n').startsWith(frame))
        .reduce((a, b) => (Number(b.getAttribute('data-w')) > Number(a.getAttribute('data-w')) ? b : a));
      const all = svg.querySelector('g.f[data-d="0"]');
      return {
        zoomedPx: g.querySelector('rect').getBoundingClientRect().width,
        zoomedAllPx: all.querySelector('rect').getBoundingClientRect().width,
        zoomedRootIsAncestor: all.classList.contains('anc'),
        hiddenAfterZoom: svg.querySelectorAll('g.f.hid').length,
      };
    }, { svgSel, frame: opt.frame }));
    await page.locator(`${svgSel} .reset`).click();
    out.hiddenAfterReset = await page.locator(`${svgSel} g.f.hid`).count();
  }

  // The HTML report's own parts.
  Object.assign(out, await page.evaluate((frame) => {
    const r = {};
    const data = document.getElementById('slableak-data');
    if (data) {
      const j = JSON.parse(data.textContent);
      r.jsonStacks = j.stacks.length;
      r.jsonFrameObjects = j.stacks.filter((s) => s.frames.some((f) => f.startsWith(frame + '+')))
        .reduce((n, s) => n + s.objects, 0);
    }
    const stacks = document.querySelectorAll('#stacks > li');
    if (stacks.length) {
      r.rankedStacks = stacks.length;
      r.rankedFrameListed = Array.from(document.querySelectorAll('#stacks ol.frames li'))
        .some((li) => li.textContent.startsWith(frame + '+'));
      const closed = document.querySelector('#stacks details:not([open])');
      if (closed) {
        const frames = closed.querySelector('ol.frames');
        const before = frames.checkVisibility();
        closed.querySelector('summary').click();
        r.collapsibleFrames = !before && closed.open && frames.checkVisibility() &&
          frames.getBoundingClientRect().height > 0;
      }
    }
    const caches = document.querySelectorAll('#caches tbody tr');
    if (caches.length) r.cacheRows = Array.from(caches).map((tr) => Array.from(tr.cells).map((c) => c.textContent));
    const health = document.querySelectorAll('#health tr');
    if (health.length) r.healthRows = health.length;
    r.bodyText = document.documentElement.textContent.length;
    return r;
  }, opt.frame));
  if (opt.hostile) {
    out.hostileShownAsText = await page.evaluate((t) => document.documentElement.textContent.includes(t), opt.hostile);
    out.scriptElements = await page.evaluate(() => document.querySelectorAll('script').length);
    out.boldElements = await page.evaluate(() => document.querySelectorAll('b').length);
  }
  if (opt.screenshot) {
    // A full-page capture of an SVG document never settles: clip to its box.
    const clip = out.isSvgDocument ? await page.evaluate(() => {
      const r = document.documentElement.getBoundingClientRect();
      return { x: 0, y: 0, width: Math.ceil(r.width), height: Math.ceil(r.height) };
    }) : undefined;
    await page.screenshot({ path: opt.screenshot, fullPage: !out.isSvgDocument, clip, timeout: 20000 });
  }
} catch (e) {
  out.error = String(e && e.stack || e);
}
await browser.close();
process.stdout.write(JSON.stringify(out) + '\n');
