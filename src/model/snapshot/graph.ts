/**
 * Shared vocabulary for the heap-graph analyses: the indexes of the node and edge types
 * a snapshot declares, edge labels, and the one piece of edge-name parsing that Chrome
 * DevTools relies on (WeakMap ephemeron edges).
 *
 * Everything in `src/model/snapshot/` works on the reader's typed arrays
 * ({@link HeapSnapshot}); a node is named by its *ordinal* (0-based position; its
 * fields start at `ordinal * nodeFieldCount`) and an edge by its offset in `edges`.
 */
import type { HeapSnapshot } from './heap-snapshot.js';
import type { SnapshotStrings } from './strings.js';

/** Index of each node and edge type in the snapshot's type lists; -1 when absent. */
export interface GraphKinds {
  nodeHidden: number;
  nodeArray: number;
  nodeString: number;
  nodeObject: number;
  nodeCode: number;
  nodeClosure: number;
  nodeRegExp: number;
  nodeNative: number;
  nodeSynthetic: number;
  edgeContext: number;
  edgeElement: number;
  edgeProperty: number;
  edgeInternal: number;
  edgeHidden: number;
  edgeShortcut: number;
  edgeWeak: number;
}

export function graphKinds(snapshot: HeapSnapshot): GraphKinds {
  const n = snapshot.meta.nodeTypes;
  const e = snapshot.meta.edgeTypes;
  return {
    nodeHidden: n.indexOf('hidden'),
    nodeArray: n.indexOf('array'),
    nodeString: n.indexOf('string'),
    nodeObject: n.indexOf('object'),
    nodeCode: n.indexOf('code'),
    nodeClosure: n.indexOf('closure'),
    nodeRegExp: n.indexOf('regexp'),
    nodeNative: n.indexOf('native'),
    nodeSynthetic: n.indexOf('synthetic'),
    edgeContext: e.indexOf('context'),
    edgeElement: e.indexOf('element'),
    edgeProperty: e.indexOf('property'),
    edgeInternal: e.indexOf('internal'),
    edgeHidden: e.indexOf('hidden'),
    edgeShortcut: e.indexOf('shortcut'),
    edgeWeak: e.indexOf('weak'),
  };
}

/**
 * The root of the graph. V8 always writes it first (DevTools reads `snapshot.root_index`,
 * which V8 never sets).
 */
export const ROOT_ORDINAL = 0;

/** Whether edges of this type (by name) have a number (element, hidden) as `name_or_index`, not a string. */
export function isIndexNamedEdgeType(type: string | undefined): boolean {
  return type === 'element' || type === 'hidden';
}

/** Whether an edge type's `name_or_index` is a number (element, hidden) rather than a string. */
export function edgeHasIndexName(snapshot: HeapSnapshot, edgeType: number): boolean {
  return isIndexNamedEdgeType(snapshot.meta.edgeTypes[edgeType]);
}

/** An edge's name: a string, or the element / hidden index. */
export function edgeName(snapshot: HeapSnapshot, edge: number): string | number {
  const type = snapshot.edges[edge + snapshot.edgeOffsets.type];
  const value = snapshot.edges[edge + snapshot.edgeOffsets.nameOrIndex];
  return edgeHasIndexName(snapshot, type) ? value : (snapshot.strings.get(value) ?? '');
}

/** An edge as DevTools prints it: `.name`, `["a b"]`, `[3]`, `->context`, `{internal}`, `[[weak]]`. */
export function edgeLabel(snapshot: HeapSnapshot, edge: number): string {
  const type = snapshot.meta.edgeTypes[snapshot.edges[edge + snapshot.edgeOffsets.type]];
  const name = String(edgeName(snapshot, edge));
  switch (type) {
    case 'context':
      return `->${name}`;
    case 'element':
      return `[${name}]`;
    case 'weak':
      return `[[${name}]]`;
    case 'property':
    case 'shortcut':
      return name.includes(' ') ? `[${JSON.stringify(name)}]` : `.${name}`;
    case 'internal':
    case 'hidden':
      return `{${name}}`;
    default:
      return `?${name}?`;
  }
}

/** The node ordinal an edge points to. */
export function edgeTarget(snapshot: HeapSnapshot, edge: number): number {
  return snapshot.edges[edge + snapshot.edgeOffsets.toNode] / snapshot.nodeFieldCount;
}

/** The node that owns an edge (binary search over `firstEdge`). */
export function edgeSource(snapshot: HeapSnapshot, edge: number): number {
  const first = snapshot.firstEdge;
  let lo = 0;
  let hi = snapshot.nodeCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (first[mid] <= edge) lo = mid;
    else hi = mid - 1;
  }
  // Nodes without edges share their `firstEdge` with the next node: take the last one.
  return lo;
}

/** Ordinal of the node with snapshot object id `id`, or -1. */
export function nodeById(snapshot: HeapSnapshot, id: number): number {
  const { nodes, nodeFieldCount } = snapshot;
  const idOffset = snapshot.nodeOffsets.id;
  for (let p = idOffset, n = 0; p < nodes.length; p += nodeFieldCount, n++) {
    if (nodes[p] === id) return n;
  }
  return -1;
}

// V8 names the two edges that hold a WeakMap value: one from the key, one from the table,
// e.g. "3 / part of key (Object @123) -> value (Object @456) pair in WeakMap (table @789)".
const EPHEMERON =
  /^\d+(?<pair> \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?<table>\d+)\))$/;

/** Bytes every ephemeron edge name contains. */
const EPHEMERON_MARK = ' pair in WeakMap (table @';

/** WeakMap-edge facts per string index, parsed on first use. */
export class EphemeronNames {
  /** 0 not parsed yet, 1 not an ephemeron name, 2 an ephemeron name. */
  private readonly state: Uint8Array;
  private readonly tables = new Map<number, number>();
  private readonly pairs = new Map<number, string>();

  constructor(private readonly strings: SnapshotStrings) {
    this.state = new Uint8Array(strings.length);
  }

  /** Object id of the WeakMap table named by this edge name, or -1. */
  tableId(nameIndex: number): number {
    let s = this.state[nameIndex];
    if (s === 0) s = this.parse(nameIndex);
    return s === 1 ? -1 : this.tables.get(nameIndex)!;
  }

  /** The part of the name that the key's edge and the table's edge share; undefined if not an ephemeron. */
  pair(nameIndex: number): string | undefined {
    return this.tableId(nameIndex) < 0 ? undefined : this.pairs.get(nameIndex);
  }

  /**
   * Every ephemeron name with its table's object id, sorted by name (string index), found
   * by one search through the strings' bytes: what a native pass over the edges needs.
   */
  allTables(): { names: Uint32Array; tables: Uint32Array } {
    const names: number[] = [];
    const tables: number[] = [];
    for (const i of this.strings.mayContainAll(EPHEMERON_MARK)) {
      const table = this.tableId(i);
      // An id no node can have (over 32 bits) matches nothing: left out.
      if (table >= 0 && table <= 0xffffffff) {
        names.push(i);
        tables.push(table);
      }
    }
    return { names: Uint32Array.from(names), tables: Uint32Array.from(tables) };
  }

  private parse(nameIndex: number): number {
    // Most names are not ephemerons: tell from the bytes, without decoding the string.
    const m = this.strings.mayContain(nameIndex, EPHEMERON_MARK)
      ? EPHEMERON.exec(this.strings.get(nameIndex) ?? '')
      : null;
    if (!m?.groups) {
      this.state[nameIndex] = 1;
      return 1;
    }
    this.state[nameIndex] = 2;
    this.tables.set(nameIndex, Number.parseInt(m.groups.table!, 10));
    this.pairs.set(nameIndex, m.groups.pair!);
    return 2;
  }
}

/**
 * Division of a multiple of `d` by `d` without a divide instruction, for the hot loops
 * that turn an edge's `to_node` (a multiple of the node field count) into an ordinal:
 * `Math.imul(x >>> shift, inverse) >>> 0` equals `x / d` for every multiple `x` of `d`
 * below 2^32, because an odd number has an inverse modulo 2^32.
 */
export interface ExactDivisor {
  shift: number;
  inverse: number;
}

export function exactDivisor(d: number): ExactDivisor {
  if (!Number.isInteger(d) || d < 1 || d > 0xffff) throw new RangeError(`bad divisor ${d}`);
  let shift = 0;
  let odd = d;
  while ((odd & 1) === 0) {
    odd >>>= 1;
    shift++;
  }
  // Newton's iteration doubles the correct low bits each step: 3 → 6 → 12 → 24 → 48.
  let inverse = odd;
  for (let i = 0; i < 4; i++) inverse = Math.imul(inverse, 2 - Math.imul(odd, inverse));
  return { shift, inverse: inverse >>> 0 };
}
