/**
 * The tree of program points, built the way Valgrind's DHAT viewer (`dh_view.js`)
 * builds it, so that heapscope's viewer shows the same nodes with the same numbers.
 *
 * - {@link buildTree}: a radix tree of the stacks: stacks merged from the root frame,
 *   each node holding a run of frames that no other stack splits. In `sites` direction
 *   (dh_view's) a stack is read allocation site first, so the root's children are the
 *   allocation sites and their callers hang below; in `callers` direction it is read
 *   outermost caller first (a flame graph's order) and allocation sites are the leaves.
 *   A leaf is exactly one program point; a node's figures are the sums over its leaves.
 * - {@link arrangeTree}: what a viewer shows for one sort metric (`metrics.ts`'s
 *   `SORT_METRICS`): significance of each
 *   node, insignificant siblings folded into one `[N insignificant]` node, children
 *   sorted, nodes numbered `1.2.3` like dh_view.
 *
 * Pure: nothing here reads or changes its input; every call returns new objects.
 * Figures a file does not carry are `NaN`, as in dh_view (and never offered as a sort).
 */
import {
  ADDITIVE_METRICS,
  div,
  type Figures,
  figuresOf,
  type SortMetric,
  zeroFigures,
} from './metrics.js';
import type { Profile } from './profile.js';

export type TreeDirection = 'sites' | 'callers';

export type NodeKind = 'leaf' | 'internal' | 'aggregate';

export interface TreeNode {
  kind: NodeKind;
  /**
   * Frame indexes (into `Profile.frames`) this node adds below its parent, in tree
   * order. The root's run starts with frame 0 (`[root]`). May be empty: a program point
   * whose stack is a prefix of another's gets a leaf with no frames of its own.
   */
  frames: number[];
  figures: Figures;
  /** Leaves only: the site's own largest live bytes and blocks (not additive). */
  maxBytes?: number;
  maxBlocks?: number;
  /**
   * Per-offset access counts (DHAT's `acc`, decoded; 0xffff read as Infinity), summed
   * over the program points below when all have counts of the same length; absent
   * otherwise (as dh_view, which then shows none).
   */
  accesses?: number[];
  children?: TreeNode[];
  /** Leaves only: the program point's index in `Profile.programPoints`. */
  pp?: number;
}

export interface ProgramPointTree {
  root: TreeNode;
  direction: TreeDirection;
  /** Program points in the tree (all of the profile's, or the `points` asked for). */
  programPoints: number;
}

export interface BuildTreeOptions {
  direction?: TreeDirection;
  /** Indexes of the program points to include (e.g. a search result); default all. */
  points?: readonly number[];
}

const FIGURE_KEYS = ADDITIVE_METRICS;

/** One program point's contribution: its figures, max, and decoded accesses. */
interface Contribution {
  figures: Figures;
  maxBytes: number;
  maxBlocks: number;
  accesses?: number[];
}

/** Decodes DHAT's run-length encoded access counts (negative n: repeat the next value n times). */
export function decodeAccesses(acc: readonly number[]): number[] {
  const out: number[] = [];
  const norm = (v: number) => {
    if (v < 0xffff) return v;
    if (v === 0xffff) return Number.POSITIVE_INFINITY; // counts latch at 0xffff
    throw new RangeError(`access count ${v} is larger than 0xffff`);
  };
  for (let i = 0; i < acc.length; i++) {
    const v = acc[i]!;
    if (v < 0) {
      const val = norm(acc[++i]!);
      for (let j = 0; j < -v; j++) out.push(val);
    } else {
      out.push(norm(v));
    }
  }
  return out;
}

/** A mutable node while the tree is built; children found by their first frame. */
interface Building extends TreeNode {
  byFirst?: Map<number, Building>;
  children?: Building[];
}

function newNode(kind: NodeKind, frames: number[]): Building {
  const n: Building = { kind, frames, figures: zeroFigures() };
  if (kind === 'leaf') {
    n.maxBytes = 0;
    n.maxBlocks = 0;
  }
  return n;
}

/** dh_view's `TreeNode._add`. */
function add(t: Building, c: Contribution): void {
  for (const k of FIGURE_KEYS) t.figures[k] += c.figures[k];
  if (t.kind === 'leaf') {
    // A leaf is one program point, added to once (stacks are unique).
    t.maxBytes = c.maxBytes;
    t.maxBlocks = c.maxBlocks;
  }
  if (t.kind === 'aggregate') return;
  // dh_view: unset + counts = the counts; counts + counts of the same length = the sum;
  // anything else = none. `NONE` is shared and never written to.
  if (t.accesses === undefined) t.accesses = c.accesses ? c.accesses.slice() : NONE;
  else if (t.accesses.length > 0) {
    if (c.accesses && t.accesses.length === c.accesses.length) {
      for (let i = 0; i < t.accesses.length; i++) t.accesses[i]! += c.accesses[i]!;
    } else t.accesses = NONE;
  }
}

const NONE: number[] = [];

function setKid(t: Building, kid: Building): void {
  if (!t.children) t.children = [];
  t.children.push(kid);
  if (kid.frames.length > 0) {
    if (!t.byFirst) t.byFirst = new Map();
    t.byFirst.set(kid.frames[0]!, kid);
  }
}

/** dh_view's `TreeNode._split`: split `t` after its `ti`'th frame; the new kid gets `newFrames`. */
function split(t: Building, ti: number, c: Contribution, newFrames: number[]): void {
  const kid1 = newNode(t.kind, t.frames.splice(ti + 1));
  if (t.children) {
    kid1.children = t.children;
    if (t.byFirst) kid1.byFirst = t.byFirst;
  }
  // kid1 takes over t's figures (with t's max when t was a leaf).
  kid1.figures = { ...t.figures };
  if (t.kind === 'leaf') {
    kid1.maxBytes = t.maxBytes!;
    kid1.maxBlocks = t.maxBlocks!;
  }
  if (t.accesses) kid1.accesses = t.accesses.length > 0 ? t.accesses.slice() : NONE;
  if (t.pp !== undefined) kid1.pp = t.pp;

  const kid2 = newNode('leaf', newFrames);
  add(kid2, c);

  if (t.kind === 'leaf') {
    t.kind = 'internal';
    delete t.maxBytes;
    delete t.maxBlocks;
    delete t.pp;
  }
  t.children = undefined;
  t.byFirst = undefined;
  setKid(t, kid1);
  setKid(t, kid2);
  add(t, c);
  kid2.pp = (c as Contribution & { pp: number }).pp;
}

/** Builds the radix tree of the profile's program points (dh_view's `buildTree`). */
export function buildTree(profile: Profile, options: BuildTreeOptions = {}): ProgramPointTree {
  const direction = options.direction ?? 'sites';
  const points = options.points ?? profile.programPoints.map((_, i) => i);
  const root = newNode('leaf', [0]); // frame 0 is always "[root]"
  const num = (v: number | undefined) => (v === undefined ? Number.NaN : v);
  const lifetimes = profile.hasLifetimes;
  const acc = profile.hasAccesses;

  points.forEach((ppIndex, i) => {
    const pp = profile.programPoints[ppIndex];
    if (!pp) throw new RangeError(`no program point ${ppIndex}`);
    const fs = direction === 'sites' ? pp.stack : pp.stack.slice().reverse();
    const c: Contribution & { pp: number } = {
      pp: ppIndex,
      figures: figuresOf(pp, profile),
      maxBytes: lifetimes ? num(pp.maxBytes) : Number.NaN,
      maxBlocks: lifetimes ? num(pp.maxBlocks) : Number.NaN,
    };
    if (acc && pp.accesses) c.accesses = decodeAccesses(pp.accesses);
    insert(root, fs, c, i === 0);
  });
  return { root: finish(root), direction, programPoints: points.length };
}

function insert(
  root: Building,
  fs: readonly number[],
  c: Contribution & { pp: number },
  first: boolean,
) {
  if (first) {
    root.frames.push(...fs);
    add(root, c);
    root.pp = c.pp;
    return;
  }
  let t = root; // current node
  let ti = 0; // current frame index within t
  for (let j = 0; j < fs.length; j++) {
    const kidFrame = fs[j]!;
    if (ti + 1 < t.frames.length) {
      // t has an internal frame at the right index.
      if (t.frames[ti + 1] === kidFrame) {
        ti++;
      } else {
        // abcd:20-[] + abef:10 => ab:30-[cd:20-[], ef:10-[]]
        split(t, ti, c, fs.slice(j));
        return;
      }
    } else {
      if (!t.children) {
        // ab:20-[] + abcd:10 => ab:30-[-:20-[], cd:10-[]]
        split(t, ti, c, fs.slice(j));
        return;
      }
      add(t, c);
      const kid = t.byFirst?.get(kidFrame);
      if (kid) {
        t = kid;
        ti = 0;
      } else {
        // ab:20-[c:10-Xs, d:10-Ys] + abef:10 => ab:30-[c:10-Xs, d:10-Ys, ef:10-[]]
        const leaf = newNode('leaf', fs.slice(j));
        add(leaf, c);
        leaf.pp = c.pp;
        setKid(t, leaf);
        return;
      }
    }
  }
  if (ti + 1 < t.frames.length) {
    // abcd:20-Xs + ab:10 => ab:30-[cd:20-Xs, -:10-[]]
    split(t, ti, c, []);
  } else if (!t.children || t.children.some((k) => k.frames.length === 0)) {
    throw new Error('data file contains a repeated location');
  } else {
    // ab:20-[c:10-Xs, d:10-Ys] + ab:10 => ab:30-[c:10-Xs, d:10-Ys, -:10-[]]
    const leaf = newNode('leaf', []);
    add(leaf, c);
    leaf.pp = c.pp;
    setKid(t, leaf);
    add(t, c);
  }
}

/** Drops the builder's lookup maps (in place: the nodes are this call's own). */
function finish(t: Building): TreeNode {
  const stack: Building[] = [t];
  while (stack.length) {
    const n = stack.pop()!;
    delete n.byFirst;
    if (n.kind !== 'leaf') delete n.pp;
    if (n.accesses && n.accesses.length === 0) delete n.accesses;
    if (n.children) for (const k of n.children) stack.push(k);
  }
  return t;
}

//------------------------------------------------------------//
//--- Arranging: significance, folding, order              ---//
//------------------------------------------------------------//

/**
 * dh_view's node significance: `self` shown in full; `desc` insignificant itself but
 * with a significant descendant (only for the non-additive metrics), shown abbreviated;
 * `none` insignificant with no significant descendant: folded into its siblings' aggregate.
 */
export type Significance = 'self' | 'desc' | 'none';

export interface ShownNode {
  /** dh_view's number, e.g. `1.2.3`. */
  id: string;
  /** How many siblings this node has, itself included (dh_view's `PP 1.2/5`). */
  of: number;
  node: TreeNode;
  sig: Significance;
  /** Aggregate nodes: how many insignificant siblings were folded into this one. */
  folded?: number;
  parent?: ShownNode;
  /** Children in display order (significant ones sorted, the aggregate among them). */
  children?: ShownNode[];
  depth: number;
  /** The sort figure as a share of the root's, in percent (dh_view's colour bands). */
  percent: number;
}

export interface ArrangeOptions {
  /** Fold insignificant siblings into one node, as dh_view always does (default true). */
  fold?: boolean;
  /** The file's short-lived threshold (`tuth`); defaults to the profile's. */
  tuth?: number;
}

/** Computes significance, folds and sorts: what a viewer shows for one sort metric. */
export function arrangeTree(
  tree: ProgramPointTree,
  metric: SortMetric,
  profile: Pick<Profile, 'shortLivedThreshold'>,
  options: ArrangeOptions = {},
): ShownNode {
  const fold = options.fold ?? true;
  const tuth = options.tuth ?? profile.shortLivedThreshold ?? Number.NaN;
  const root = tree.root.figures;
  const key = metric.key;
  const sigs = new Map<TreeNode, Significance>();
  const sigTree = (t: TreeNode): boolean => {
    let sig = false;
    if (t.children) for (const kid of t.children) if (sigTree(kid)) sig = true;
    if (metric.sig(t.figures, root, tuth)) {
      sigs.set(t, 'self');
      return true;
    }
    sigs.set(t, sig ? 'desc' : 'none');
    return sig;
  };
  sigTree(tree.root);

  const cmp = (a: ShownNode, b: ShownNode) => {
    const s = b.node.figures[key] - a.node.figures[key];
    return s !== 0 ? s : b.node.figures.totalBytes - a.node.figures.totalBytes;
  };
  const pc = (f: Figures) => div(f[key], root[key]) * 100;

  const shape = (t: TreeNode, id: string, of: number, depth: number, parent?: ShownNode) => {
    const shown: ShownNode = {
      id,
      of,
      node: t,
      sig: sigs.get(t)!,
      depth,
      percent: pc(t.figures),
      ...(parent ? { parent } : {}),
    };
    if (!t.children) return shown;
    const kids: TreeNode[] = [];
    let agg: TreeNode | undefined;
    let folded = 0;
    for (const kid of t.children) {
      if (!fold || sigs.get(kid) !== 'none') {
        kids.push(kid);
        continue;
      }
      if (!agg) {
        agg = { kind: 'aggregate', frames: [], figures: zeroFigures() };
        kids.push(agg);
      }
      folded++;
      for (const k of FIGURE_KEYS) agg.figures[k] += kid.figures[k];
    }
    if (agg) sigs.set(agg, 'none');
    // Sorting needs the figures only; number the children after sorting.
    const pre = kids.map(
      (k): ShownNode => ({
        id: '',
        of: kids.length,
        node: k,
        sig: sigs.get(k)!,
        depth: depth + 1,
        percent: pc(k.figures),
        ...(k === agg ? { folded } : {}),
      }),
    );
    pre.sort(cmp);
    shown.children = pre.map((p, i) => {
      const childId = `${id}.${i + 1}`;
      if (p.node === agg) return { ...p, id: childId, parent: shown };
      return shape(p.node, childId, kids.length, depth + 1, shown);
    });
    return shown;
  };
  return shape(tree.root, '1', 1, 0);
}

/** Frames from the root down to and including `n`'s own (frame 0, `[root]`, left out). */
export function pathFrames(n: ShownNode): number[] {
  const runs: number[][] = [];
  for (let p: ShownNode | undefined = n; p; p = p.parent) runs.push(p.node.frames);
  return runs
    .reverse()
    .flat()
    .filter((f, i) => !(i === 0 && f === 0));
}

/** The program points under a node of the tree, in tree order. */
export function pointsUnder(t: TreeNode): number[] {
  const out: number[] = [];
  const walk = (n: TreeNode) => {
    if (n.pp !== undefined) out.push(n.pp);
    if (n.children) for (const k of n.children) walk(k);
  };
  walk(t);
  return out;
}
