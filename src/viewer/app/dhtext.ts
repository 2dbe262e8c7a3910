/**
 * The text of a node as dh_view.js prints it ("DOM manipulation": `appendTreeInner`),
 * fragment for fragment: which lines an insignificant node keeps, which figures are bold
 * for the sort metric. The viewer's details panel shows these lines; `dhViewText` joins
 * them with dh_view's tree lines into the whole text dh_view renders, so tests compare
 * the two character for character. Pure; no DOM.
 */
import { type BoldField, div, type SortMetric } from '../../model/metrics.js';
import type { Profile } from '../../model/profile.js';
import type { ShownNode } from '../../model/tree.js';
import type { Format } from './format.js';

export interface Fragment {
  text: string;
  bold: boolean;
}

export type Line = Fragment[];

export type TextProfile = Pick<
  Profile,
  | 'mode'
  | 'verb'
  | 'cmd'
  | 'pid'
  | 'endTime'
  | 'peakTime'
  | 'hasLifetimes'
  | 'hasAccesses'
  | 'frames'
  | 'timeUnit'
>;

export interface TextContext {
  profile: TextProfile;
  /** The root of the arranged tree (percentages are of its figures). */
  root: ShownNode;
  metric: SortMetric;
  fmt: Format;
  /**
   * dh_view prints "avg lifetime NaN" when a file has lifetimes but no `tl`
   * (heapscope's); false leaves such a figure out.
   */
  nanLifetimes?: boolean;
}

/** The lines of one node, with dh_view's rules for insignificant nodes applied. */
export function nodeLines(s: ShownNode, ctx: TextContext): Line[] {
  const { profile: p, fmt } = ctx;
  const bolds = new Set<BoldField>(ctx.metric.bolds);
  const b = (f: BoldField) => bolds.has(f);
  const self = s.sig === 'self';
  const t = s.node.figures;
  const r = ctx.root.node.figures;
  const lines: Line[] = [];
  let cur: Line = [];
  const fr = (text: string, showIfInsig?: boolean, isBold?: boolean) => {
    if (!showIfInsig && !self) return;
    cur.push({ text, bold: isBold === undefined ? !!showIfInsig : isBold });
  };
  const nl = (showIfInsig?: boolean) => {
    if (!showIfInsig && !self) return;
    lines.push(cur);
    cur = [];
  };

  const kids = s.children;
  fr(`PP ${s.id}/${s.of} ${kids ? `(${kids.length} children) ` : ''}{`, true, false);
  nl(true);

  const avgLt = div(t.totalLifetimes, t.totalBlocks);
  fr('  Total:     ', b('totalTitle'));
  fr(fmt.bytesAndPercAndRate(t.totalBytes, r.totalBytes), b('totalBytes'));
  fr(' in ');
  fr(fmt.blocksAndPercAndRate(t.totalBlocks, r.totalBlocks), b('totalBlocks'));
  fr(', ', b('totalAvgSizeBytes'), false);
  fr(fmt.avgSizeBytes(div(t.totalBytes, t.totalBlocks)), b('totalAvgSizeBytes'));
  if (p.hasLifetimes && (ctx.nanLifetimes || !Number.isNaN(avgLt))) {
    fr(', ', b('totalAvgLifetime'), false);
    fr(
      `${fmt.avgLifetime(avgLt)} (${fmt.perc(avgLt, p.endTime)} of program duration)`,
      b('totalAvgLifetime'),
    );
  }
  nl(b('totalTitle'));

  if (p.hasLifetimes) {
    if (s.parent && s.node.kind === 'leaf') {
      const mb = s.node.maxBytes ?? Number.NaN;
      const mbk = s.node.maxBlocks ?? Number.NaN;
      fr(`  Max:       ${fmt.bytes(mb)} in ${fmt.blocks(mbk)}, ${fmt.avgSizeBytes(div(mb, mbk))}`);
      nl();
    }
    const at = (
      title: string,
      prefix: 'atTGmax' | 'atTEnd',
      bytes: number,
      blocks: number,
      rb: number,
      rk: number,
    ) => {
      fr(title, b(`${prefix}Title`));
      fr(fmt.bytesAndPerc(bytes, rb), b(`${prefix}Bytes`));
      if (b(`${prefix}Blocks`)) {
        // heapscope's blocks-at metrics: the same text with the blocks in bold.
        fr(' in ');
        fr(fmt.blocksAndPerc(blocks, rk), true);
        fr(`, ${fmt.avgSizeBytes(div(bytes, blocks))}`);
      } else {
        fr(` in ${fmt.blocksAndPerc(blocks, rk)}, ${fmt.avgSizeBytes(div(bytes, blocks))}`);
      }
      nl(b(`${prefix}Title`));
    };
    at('  At t-gmax: ', 'atTGmax', t.peakBytes, t.peakBlocks, r.peakBytes, r.peakBlocks);
    at('  At t-end:  ', 'atTEnd', t.endBytes, t.endBlocks, r.endBytes, r.endBlocks);
  }

  if (p.hasAccesses) {
    fr('  Reads:     ', b('readsTitle'));
    fr(fmt.bytesAndPercAndRate(t.readBytes, r.readBytes), b('readsBytes'));
    fr(', ', b('readsBytes') && b('readsAvgPerByte'), false);
    fr(fmt.perByte(div(t.readBytes, t.totalBytes)), b('readsAvgPerByte'));
    nl(b('readsTitle'));

    fr('  Writes:    ', b('writesTitle'));
    fr(fmt.bytesAndPercAndRate(t.writeBytes, r.writeBytes), b('writesBytes'));
    fr(', ', b('writesBytes') && b('writesAvgPerByte'), false);
    fr(fmt.perByte(div(t.writeBytes, t.totalBytes)), b('writesAvgPerByte'));
    nl(b('writesTitle'));

    const acc = s.node.accesses;
    if (acc && acc.length > 0) {
      let v = '  Accesses: {';
      let prev: number | undefined;
      acc.forEach((n, i) => {
        if (i % 32 === 0) {
          fr(v);
          nl();
          v = `    [${i.toString().padStart(3, ' ')}]  ${fmt.accesses(n)} `;
        } else {
          v += n === prev && n !== 0 ? '〃 ' : `${fmt.accesses(n)} `;
        }
        prev = n;
      });
      fr(v);
      nl();
      fr('  }');
      nl();
    }
  }

  fr(`  ${p.verb} at {`, true, false);
  nl(true);
  if (s.node.kind === 'aggregate') {
    fr(`    [${s.folded ?? 0} insignificant]`, true, false);
    nl(true);
  } else {
    let i = s.parent ? 1 : 0;
    for (const f of ancestorFrames(s).slice(1)) {
      fr(`    ^${i++}: ${p.frames[f]}`);
      nl(false);
    }
    for (const f of s.node.frames) {
      fr(`    #${i++}: ${p.frames[f]}`, true, false);
      nl(true);
    }
  }
  fr('  }', true, false);
  nl(true);
  fr('}', true, false);
  nl(true);
  return lines;
}

/** Frames of the node's ancestors, root first (dh_view's `aOldFrames`, `[root]` included). */
export function ancestorFrames(s: ShownNode): number[] {
  const runs: number[][] = [];
  for (let p = s.parent; p; p = p.parent) runs.push(p.node.frames);
  return runs.reverse().flat();
}

export function lineText(line: Line): string {
  return line.map((f) => f.text).join('');
}

/** dh_view's "Invocation" and "Times" blocks. */
export function invocationText(p: TextProfile, fmt: Format): string {
  let v = `Invocation {\n  Mode:    ${p.mode}\n  Command: ${p.cmd}\n  PID:     ${p.pid}\n}\n\n`;
  v += 'Times {\n';
  if (p.hasLifetimes) {
    const tg = p.peakTime ?? Number.NaN;
    v += `  t-gmax: ${fmt.time(tg)} (${fmt.perc(tg, p.endTime)} of program duration)\n`;
  }
  v += `  t-end:  ${fmt.time(p.endTime)}\n}\n\n`;
  return v;
}

/**
 * The whole text dh_view renders in its `<pre>` for a tree and sort metric: invocation,
 * times, every node with its tree lines, and the significance threshold.
 */
export function dhViewText(ctx: TextContext, tuth: number): string {
  const out: string[] = [invocationText(ctx.profile, ctx.fmt)];
  const walk = (s: ShownNode, tlFirst: string, tlRest: string) => {
    const lines = nodeLines(s, ctx);
    const arrow = s.children ? '▼ ' : '─ ';
    lines.forEach((line, i) => {
      out.push(i === 0 ? tlFirst + arrow : tlRest, lineText(line), '\n');
    });
    const kids = s.children ?? [];
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      walk(k, tlRest + (last ? '└─' : '├─'), tlRest + (last ? '    ' : '│   '));
    });
  };
  walk(ctx.root, '', '  ');
  out.push(
    `\nPP significance threshold: ${ctx.metric.sigLabel(ctx.root.node.figures, ctx.fmt, tuth)}\n`,
  );
  return out.join('');
}
