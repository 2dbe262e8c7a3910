/**
 * Matching the program points of two profiles, for diffs.
 *
 * A program point is known by its stack of frame strings. Between two versions of a
 * program the same site may show a different stack: code addresses change with every
 * build (Valgrind, dhat-rs), lines shift when code above them changes, files get
 * renamed. Sites are matched in stages, each on what is left unmatched by the ones
 * before, from the strictest key to the loosest:
 *
 * 1. `exact`: the same frame strings.
 * 2. `address`: the same frames once code addresses (`0x1091A0: `) are dropped, i.e.
 *    the same functions at the same source positions. Not fuzzy.
 * 3. `moved`: the same function name and file in every frame, other line:column
 *    (code moved within its files). Fuzzy.
 * 4. `renamed`: the same sequence of function names, with at least one frame in another
 *    file. Fuzzy, and only taken when the name sequence is unique on both sides among
 *    the sites left, and names at least one real function (anonymous frames alone say
 *    nothing about identity).
 *
 * Where a key is shared by several sites on one side, stage 2 folds them into one
 * group match (sums stay exact, nothing is double-counted); stage 3 pairs them in
 * source order when both sides have as many (a shift keeps the order of functions in a
 * file) and folds them otherwise.
 */

import { type FrameParts, parseFrame, withoutAddress } from './frame.js';

/** Frame parsing lives in `frame.ts`; re-exported for the diff's users. */
export { type FrameParts, parseFrame };

/** How a pair (or group) of sites was matched. */
export type MatchKind = 'exact' | 'address' | 'moved' | 'renamed';

/** True for the kinds that matched sites whose source positions differ. */
export function isFuzzy(kind: MatchKind): boolean {
  return kind === 'moved' || kind === 'renamed';
}

export interface SiteMatch {
  kind: MatchKind;
  /** Indexes into the base and head stacks; one each, or several when sites were folded. */
  base: number[];
  head: number[];
}

export interface MatchResult {
  matches: SiteMatch[];
  /** Head sites with no counterpart in the base. */
  added: number[];
  /** Base sites with no counterpart in the head. */
  removed: number[];
}

export interface MatchOptions {
  /** Also match sites whose code moved or whose file was renamed (default true). */
  fuzzy?: boolean;
}

const ANONYMOUS = new Set(['', '(anonymous)', '<anonymous>', '???', '(root)', '(program)']);

interface Site {
  index: number;
  /** The stack's frames as ids into the match's own frame table (`Frames`). */
  ids: number[];
}

/**
 * The frames of both sides, each distinct string once, with what the stages need of a
 * frame (its parts, its text without an address, its function and file, its name) worked
 * out once per distinct frame and only when a stage asks. Keys of stacks are then short
 * strings of ids: a large profile's stacks are not copied into long texts.
 */
class Frames {
  private readonly ids = new Map<string, number>();
  readonly texts: string[] = [];
  private readonly parts: FrameParts[] = [];
  private readonly derived = new Map<string, Map<string, number>>();
  private readonly derivedOf = new Map<string, number[]>();

  id(frame: string): number {
    let id = this.ids.get(frame);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(frame);
      this.ids.set(frame, id);
    }
    return id;
  }

  partsOf(id: number): FrameParts {
    let p = this.parts[id];
    if (p === undefined) {
      p = parseFrame(this.texts[id]!);
      this.parts[id] = p;
    }
    return p;
  }

  /** An id per distinct value of `f` over frames: equal values, equal ids. */
  derivedId(kind: string, id: number, f: (frame: number) => string): number {
    let of = this.derivedOf.get(kind);
    let values = this.derived.get(kind);
    if (!of || !values) {
      of = [];
      values = new Map();
      this.derivedOf.set(kind, of);
      this.derived.set(kind, values);
    }
    const known = of[id];
    if (known !== undefined) return known;
    const v = f(id);
    let d = values.get(v);
    if (d === undefined) {
      d = values.size;
      values.set(v, d);
    }
    of[id] = d;
    return d;
  }
}

/** Matches base stacks to head stacks (each a list of frame strings, allocation site first). */
export function matchSites(
  baseStacks: readonly (readonly string[])[],
  headStacks: readonly (readonly string[])[],
  options: MatchOptions = {},
): MatchResult {
  const frames = new Frames();
  const toSite = (stack: readonly string[], index: number): Site => ({
    index,
    ids: stack.map((f) => frames.id(f)),
  });
  let base = baseStacks.map(toSite);
  let head = headStacks.map(toSite);
  const keyBy = (kind: string, f: (id: number) => string) => (s: Site) =>
    s.ids.map((id) => frames.derivedId(kind, id, f)).join(',');
  const exactKey = (s: Site) => s.ids.join(',');
  const sourceKey = keyBy('source', (id) => withoutAddress(frames.texts[id]!));
  const movedKey = keyBy('moved', (id) => {
    const p = frames.partsOf(id);
    return `${p.name}\u0000${p.file ?? ''}`;
  });
  const nameKey = keyBy('name', (id) => frames.partsOf(id).name);
  const order = bySourceOrder(frames);
  const matches: SiteMatch[] = [];
  const stage = (kind: MatchKind, found: { base: number[]; head: number[] }[]) => {
    for (const m of found) matches.push({ kind, ...m });
    if (found.length === 0) return;
    const usedB = new Set(found.flatMap((m) => m.base));
    const usedH = new Set(found.flatMap((m) => m.head));
    base = base.filter((s) => !usedB.has(s.index));
    head = head.filter((s) => !usedH.has(s.index));
  };
  stage('exact', matchByKey(base, head, exactKey, 'fold', order));
  stage('address', matchByKey(base, head, sourceKey, 'fold', order));
  if (options.fuzzy !== false) {
    stage('moved', matchByKey(base, head, movedKey, 'pair', order));
    const renamable = (s: Site) => s.ids.some((id) => !ANONYMOUS.has(frames.partsOf(id).name));
    stage(
      'renamed',
      matchByKey(base.filter(renamable), head.filter(renamable), nameKey, 'skip', order),
    );
  }
  return { matches, added: head.map((s) => s.index), removed: base.map((s) => s.index) };
}

function matchByKey(
  base: readonly Site[],
  head: readonly Site[],
  key: (s: Site) => string,
  ambiguous: 'fold' | 'pair' | 'skip',
  bySourceOrder: (a: Site, b: Site) => number,
): { base: number[]; head: number[] }[] {
  if (base.length === 0 || head.length === 0) return [];
  const groups = new Map<string, { base: Site[]; head: Site[] }>();
  for (const s of base) {
    const k = key(s);
    const g = groups.get(k);
    if (g) g.base.push(s);
    else groups.set(k, { base: [s], head: [] });
  }
  for (const s of head) groups.get(key(s))?.head.push(s);
  const out: { base: number[]; head: number[] }[] = [];
  for (const g of groups.values()) {
    if (g.head.length === 0) continue;
    if (g.base.length === 1 && g.head.length === 1) {
      out.push({ base: [g.base[0]!.index], head: [g.head[0]!.index] });
    } else if (ambiguous === 'pair' && g.base.length === g.head.length) {
      const b = [...g.base].sort(bySourceOrder);
      const h = [...g.head].sort(bySourceOrder);
      b.forEach((s, i) => {
        out.push({ base: [s.index], head: [h[i]!.index] });
      });
    } else if (ambiguous !== 'skip') {
      out.push({ base: g.base.map((s) => s.index), head: g.head.map((s) => s.index) });
    }
  }
  return out;
}

/** Orders sites by the source positions of their frames, allocation site first. */
function bySourceOrder(frames: Frames) {
  return (a: Site, b: Site): number => {
    const n = Math.min(a.ids.length, b.ids.length);
    for (let i = 0; i < n; i++) {
      const p = frames.partsOf(a.ids[i]!);
      const q = frames.partsOf(b.ids[i]!);
      const d = (p.line ?? 0) - (q.line ?? 0) || (p.column ?? 0) - (q.column ?? 0);
      if (d !== 0) return d;
    }
    return a.ids.length - b.ids.length || a.index - b.index;
  };
}
