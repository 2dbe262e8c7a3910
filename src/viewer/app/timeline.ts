/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Memory over time: the live bytes of `heapscope.timeline` as a line chart in SVG, with
 * the global peak (t-gmax) marked when the file has one. The line is the heap used after
 * every garbage collection, minor ones included (old garbage not yet collected counts), so
 * its highest point may be above and before t-gmax, whose figures come from a full
 * collection's sample or, failing that, from the end of the run: the caption says which.
 */
import type { Profile } from '../../model/profile.js';
import type { TimelinePoint } from './data.js';
import { fill, h, s } from './dom.js';
import { type Format, shortBytes, timeAxisLabels } from './format.js';

const W = 900;
const H = 170;
const PAD = { left: 64, right: 12, top: 10, bottom: 26 };

export function renderTimeline(
  container: HTMLElement,
  points: TimelinePoint[],
  p: Profile,
  fmt: Format,
): void {
  const tg = p.hasLifetimes ? p.peakTime : undefined;
  const t0 = points[0]!.t;
  // The axis reaches t-gmax when the profile puts it after the last point (the end of
  // the run, when the end is taken as the peak).
  const t1 = Math.max(points[points.length - 1]!.t, tg ?? t0, t0 + 1);
  const maxBytes = Math.max(1, ...points.map((q) => q.bytes));
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (b: number) => PAD.top + (1 - b / maxBytes) * (H - PAD.top - PAD.bottom);
  const line = points.map((q) => `${x(q.t).toFixed(1)},${y(q.bytes).toFixed(1)}`).join(' ');
  const area = `${x(t0).toFixed(1)},${y(0)} ${line} ${x(points[points.length - 1]!.t).toFixed(1)},${y(0)}`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const peak = points.reduce((a, q) => (q.bytes > a.bytes ? q : a));
  const endAsPeak = p.heapscope?.peak?.method === 'end-as-peak';
  const axis = timeAxisLabels(
    ticks.map((f) => t0 + f * (t1 - t0)),
    t0,
    t1,
    p.timeUnit,
  );
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
    // The first label starts at the axis and the last ends at it: none is cut off.
    ...axis.map((label, i) =>
      s(
        'text',
        {
          x: x(t0 + ticks[i]! * (t1 - t0)),
          y: H - 8,
          'text-anchor': i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle',
        },
        label,
      ),
    ),
    s('polygon', { points: area, class: 'area' }),
    s('polyline', { points: line, class: 'line' }),
    tg !== undefined && tg >= t0 && tg <= t1
      ? s(
          'g',
          {},
          s('line', { x1: x(tg), x2: x(tg), y1: PAD.top, y2: H - PAD.bottom, class: 'peak' }),
          s(
            'text',
            x(tg) > W / 2
              ? { x: x(tg) - 4, y: PAD.top + 10, 'text-anchor': 'end' }
              : { x: x(tg) + 4, y: PAD.top + 10 },
            endAsPeak ? 't-gmax (end of run)' : 't-gmax',
          ),
        )
      : null,
  );
  fill(
    container,
    h('h2', {}, 'Memory over time'),
    h(
      'p',
      { class: 'dim' },
      `${points.length.toLocaleString()} samples of the heap used after each garbage collection ` +
        `(after a minor one, old garbage not yet collected included); highest ${fmt.bytes(peak.bytes)} ` +
        `(${shortBytes(peak.bytes)}) at ${fmt.time(peak.t)}.` +
        (tg === undefined
          ? ''
          : ` The figures at t-gmax (${fmt.time(tg)}) are ${
              endAsPeak
                ? 'those of the end of the run: no live figures per site were measured at a higher moment'
                : p.heapscope?.peak?.method === 'sampled-at-peak'
                  ? "V8's sample at the largest heap after a full garbage collection"
                  : 'measured at the peak'
            }.`),
    ),
    svg,
  );
}
