/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Memory over time: the live bytes of `heapscope.timeline` as a line chart in SVG, with
 * the global peak (t-gmax) marked when the file has one.
 */
import type { Profile } from '../../model/profile.js';
import type { TimelinePoint } from './data.js';
import { fill, h, s } from './dom.js';
import { type Format, shortBytes } from './format.js';

const W = 900;
const H = 170;
const PAD = { left: 64, right: 12, top: 10, bottom: 26 };

export function renderTimeline(
  container: HTMLElement,
  points: TimelinePoint[],
  p: Profile,
  fmt: Format,
): void {
  const t0 = points[0]!.t;
  const t1 = Math.max(points[points.length - 1]!.t, t0 + 1);
  const maxBytes = Math.max(1, ...points.map((q) => q.bytes));
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (b: number) => PAD.top + (1 - b / maxBytes) * (H - PAD.top - PAD.bottom);
  const line = points.map((q) => `${x(q.t).toFixed(1)},${y(q.bytes).toFixed(1)}`).join(' ');
  const area = `${x(t0).toFixed(1)},${y(0)} ${line} ${x(points[points.length - 1]!.t).toFixed(1)},${y(0)}`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const peak = points.reduce((a, q) => (q.bytes > a.bytes ? q : a));
  const tg = p.hasLifetimes ? p.peakTime : undefined;
  const svg = s(
    'svg',
    {
      class: 'timeline',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': `Live bytes over time: peak ${shortBytes(peak.bytes)} at ${fmt.time(peak.t)}`,
    },
    ...ticks.map((f) =>
      s(
        'g',
        {},
        s('line', {
          x1: PAD.left,
          x2: W - PAD.right,
          y1: y(f * maxBytes),
          y2: y(f * maxBytes),
          class: 'grid',
        }),
        s(
          'text',
          { x: PAD.left - 6, y: y(f * maxBytes) + 4, 'text-anchor': 'end' },
          shortBytes(f * maxBytes),
        ),
      ),
    ),
    ...ticks.map((f) =>
      s(
        'text',
        { x: x(t0 + f * (t1 - t0)), y: H - 8, 'text-anchor': 'middle' },
        fmt.time(Math.round(t0 + f * (t1 - t0))),
      ),
    ),
    s('polygon', { points: area, class: 'area' }),
    s('polyline', { points: line, class: 'line' }),
    tg !== undefined && tg >= t0 && tg <= t1
      ? s(
          'g',
          {},
          s('line', { x1: x(tg), x2: x(tg), y1: PAD.top, y2: H - PAD.bottom, class: 'peak' }),
          s('text', { x: x(tg) + 4, y: PAD.top + 10 }, 't-gmax'),
        )
      : null,
  );
  fill(
    container,
    h('h2', {}, 'Memory over time'),
    h(
      'p',
      { class: 'dim' },
      `${points.length.toLocaleString()} samples; highest ${fmt.bytes(peak.bytes)} (${shortBytes(peak.bytes)}) at ${fmt.time(peak.t)}.`,
    ),
    svg,
  );
}
