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
  return matchStacks(
    { count: baseStacks.length, at: (i) => baseStacks[i]! },
    { count: headStacks.length, at: (i) => headStacks[i]! },
    options,
  );
}

/**
 * The stacks of one side, each made when asked: a large profile's stacks as arrays of
 * frame strings would all be kept for the whole match.
 */
export interface Stacks {
  count: number;
  at(index: number): readonly string[];
}

/** `matchSites` on stacks made when asked. */
export function matchStacks(
  baseStacks: Stacks,
  headStacks: Stacks,
  options: MatchOptions = {},
): MatchResult {
  // The exact stage matches most sites of most diffs: done on hashes of the stacks, with
  // no table of frames; the later stages work on what it leaves.
  const exact = matchExactly(baseStacks, headStacks);
  const matches: SiteMatch[] = exact.found;
  const frames = new Frames();
  const toSite = (index: number, stack: readonly string[]): Site => ({
    index,
    ids: stack.map((f) => frames.id(f)),
  });
  let base = exact.restBase.map((i) => toSite(i, baseStacks.at(i)));
  let head = exact.restHead.map((i) => toSite(i, headStacks.at(i)));
  const keyBy = (kind: string, f: (id: number) => string) => (s: Site) =>
    s.ids.map((id) => frames.derivedId(kind, id, f)).join(',');
  const sourceKey = keyBy('source', (id) => withoutAddress(frames.texts[id]!));
  const movedKey = keyBy('moved', (id) => {
    const p = frames.partsOf(id);
    return `${p.name}\u0000${p.file ?? ''}`;
  });
  const nameKey = keyBy('name', (id) => frames.partsOf(id).name);
  const order = bySourceOrder(frames);
  const stage = (kind: MatchKind, found: { base: number[]; head: number[] }[]) => {
    for (const m of found) matches.push({ kind, ...m });
    if (found.length === 0) return;
    const usedB = new Set(found.flatMap((m) => m.base));
    const usedH = new Set(found.flatMap((m) => m.head));
    base = base.filter((s) => !usedB.has(s.index));
    head = head.filter((s) => !usedH.has(s.index));
  };
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

/** FNV-1a over a string's UTF-16 code units. */
function stringHash(s: string, h: number): number {
  let x = h;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return x;
}

function stackHash(stack: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const f of stack) h = Math.imul(stringHash(f, h) ^ 0x0a, 0x01000193);
  return h >>> 0;
}

function sameStack(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Stage 1: the same frame strings. Base stacks go into an open-addressing table by their
 * hash (equal stacks on one side folded into one group, as the later stages fold);
 * each head stack is looked up in it. Typed arrays only: millions of sites cost a few
 * bytes each.
 */
function matchExactly(
  baseStacks: Stacks,
  headStacks: Stacks,
): { found: SiteMatch[]; restBase: number[]; restHead: number[] } {
  const nb = baseStacks.count;
  let size = 1;
  while (size < 2 * nb) size *= 2;
  const mask = size - 1;
  /** Slot → first base site of a distinct stack, + 1 (0: empty). */
  const slots = new Int32Array(size);
  const hashes = new Uint32Array(nb);
  /** Base sites with the same stack as an earlier one: the next of its group, + 1. */
  const nextSame = new Int32Array(nb);
  const lastSame = new Int32Array(nb);
  const find = (stack: readonly string[], h: number): number => {
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = slots[i]!;
      if (v === 0) return -1 - i;
      const first = v - 1;
      if (hashes[first] === h && sameStack(baseStacks.at(first), stack)) return first;
    }
  };
  for (let b = 0; b < nb; b++) {
    const stack = baseStacks.at(b);
    const h = stackHash(stack);
    hashes[b] = h;
    const at = find(stack, h);
    if (at < 0) {
      slots[-1 - at] = b + 1;
      lastSame[b] = b;
    } else {
      nextSame[lastSame[at]!] = b + 1;
      lastSame[at] = b;
    }
  }
  /** Per first base site of a group: its head sites (first, then a chain), + 1. */
  const firstHead = new Int32Array(nb);
  const lastHead = new Int32Array(nb);
  const nextHead = new Int32Array(headStacks.count);
  const restHead: number[] = [];
  for (let j = 0; j < headStacks.count; j++) {
    const stack = headStacks.at(j);
    const at = nb === 0 ? -1 : find(stack, stackHash(stack));
    if (at < 0) {
      restHead.push(j);
      continue;
    }
    if (firstHead[at] === 0) firstHead[at] = j + 1;
    else nextHead[lastHead[at]!] = j + 1;
    lastHead[at] = j;
  }
  const found: SiteMatch[] = [];
  const matchedBase = new Uint8Array(nb);
  for (let b = 0; b < nb; b++) {
    if (firstHead[b] === 0) continue;
    const base: number[] = [];
    for (let x = b + 1; x !== 0; x = nextSame[x - 1]!) {
      base.push(x - 1);
      matchedBase[x - 1] = 1;
    }
    const head: number[] = [];
    for (let x = firstHead[b]!; x !== 0; x = nextHead[x - 1]!) head.push(x - 1);
    found.push({ kind: 'exact', base, head });
  }
  const restBase: number[] = [];
  for (let b = 0; b < nb; b++) if (!matchedBase[b]) restBase.push(b);
  return { found, restBase, restHead };
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
