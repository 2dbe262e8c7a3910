/**
 * Class names of heap nodes, as Chrome DevTools' Summary view groups them
 * (`HeapSnapshot.calculateObjectNames`, `inferInterfaceDefinitions`,
 * `applyInterfaceDefinitions`, `classKeyInternal`):
 *
 * - `object` and `native` nodes: their name, which V8 sets to the constructor's name
 *   (`Leaky`, `Map`, `Array`); DOM names `<div id="x">` become `<div>`; native nodes
 *   that the embedder marks detached, and native nodes they reach, get `Detached `
 *   before their name (`propagateDOMState`).
 * - plain objects (`Object`): named by their shape, `{a, b}`, when enough objects share
 *   it (at least 2 and 1 in 1,000 plain objects); otherwise `Object`.
 * - `closure` → `Function`, `regexp` → `RegExp`, `code` → `(compiled code)`,
 *   `hidden` → `(system)`, any other type → `(type)`: `(string)`, `(array)`,
 *   `(concatenated string)`, `(number)`, `(object shape)`…
 * - two `object` classes with the same name but constructors at different places
 *   (script, line, column) are different classes.
 *
 * One difference: DevTools keys a name by its string index, and a class named by V8
 * (say an object called `Function`) can then differ from one named by DevTools with the
 * same text; its public keys merge them again. heapscope keys classes by their text.
 */

import type { GraphKinds } from './graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { locationLookup } from './locations.js';
import type { SnapshotStrings } from './strings.js';

/** A plain-object shape that names the `Object`s having (at least) these properties. */
export interface InterfaceDefinition {
  /** `{a, b}`: the properties in the order the most common such object has them. */
  name: string;
  properties: string[];
}

/** Where an object class's constructor is: V8's 0-based script id, line and column. */
export interface ClassLocation {
  scriptId: number;
  line: number;
  column: number;
}

export interface ClassTable {
  /** Class id of each node (by ordinal): an index into `names`. */
  classOf: Uint32Array;
  /** Display name of each class. */
  names: string[];
  /** Constructor location of each class; undefined for classes not split by location. */
  locations: (ClassLocation | undefined)[];
  /** The shapes that named plain objects. */
  interfaces: InterfaceDefinition[];
}

export interface ClassifyOptions {
  /**
   * Shapes for plain objects. Default: inferred from this snapshot. Pass another
   * snapshot's to name both alike (as a comparison does).
   */
  interfaces?: InterfaceDefinition[];
}

const MAX_INTERFACE_NAME_LENGTH = 120;
const MIN_OBJECTS_PER_INTERFACE = 2;
const MIN_PROPORTION_PER_INTERFACE = 1000;

/** DevTools' `JSHeapSnapshotNode.formatPropertyName`. */
function formatPropertyName(name: string): string {
  return /[,'"{}]/.test(name) ? JSON.stringify(name) : name;
}

/** 1 for each string index whose text is `Object` (V8 writes each string once, so usually one). */
function plainObjectNames(strings: SnapshotStrings): Uint8Array {
  const found = new Uint8Array(strings.length);
  for (let i = strings.indexOf('Object'); i >= 0; i = strings.indexOf('Object', i + 1))
    found[i] = 1;
  return found;
}

/**
 * The shapes common enough among plain objects to name them (DevTools'
 * `inferInterfaceDefinitions`), most common first.
 */
export function inferInterfaceDefinitions(
  snapshot: HeapSnapshot,
  kinds: GraphKinds,
  objectNames: Uint8Array = plainObjectNames(snapshot.strings),
): InterfaceDefinition[] {
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount, strings } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const { type: typeOff, name: nameOff } = snapshot.nodeOffsets;
  const { type: eTypeOff, nameOrIndex: eNameOff } = snapshot.edgeOffsets;
  const stringCount = strings.length;
  // Formatted length of each property name, -1 until needed; -2 for `__proto__`.
  const formatted = new Int32Array(stringCount).fill(-1);
  // A trie of property sequences: state 0 is "{", each step adds one property.
  const child = new Map<number, number>();
  const parent: number[] = [-1];
  const lastName: number[] = [-1];
  const lastNext: number[] = [0];
  const property: number[] = [-1];
  const count: number[] = [0];
  const seen: number[] = [-1];
  let order = 0;
  let total = 0;
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    if (nodes[p + typeOff] !== kinds.nodeObject || objectNames[nodes[p + nameOff]] === 0) continue;
    total++;
    let state = 0;
    let len = 1;
    let props = 0;
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      if (edges[e + eTypeOff] !== kinds.edgeProperty) continue;
      const name = edges[e + eNameOff];
      let f = formatted[name];
      if (f === -1) {
        const text = strings.get(name) ?? '';
        f = text === '__proto__' ? -2 : formatPropertyName(text).length;
        formatted[name] = f;
      }
      if (f === -2) continue;
      if (len > 1 && len + f > MAX_INTERFACE_NAME_LENGTH) break;
      if (props > 0) len += 2;
      len += f;
      // Objects of one shape come in runs: try the state's last step before the map.
      let next = lastName[state] === name ? lastNext[state] : child.get(state * stringCount + name);
      if (next === undefined) {
        next = parent.length;
        child.set(state * stringCount + name, next);
        parent.push(state);
        property.push(name);
        count.push(0);
        seen.push(-1);
        lastName.push(-1);
        lastNext.push(0);
      }
      lastName[state] = name;
      lastNext[state] = next;
      state = next;
      props++;
    }
    if (props === 0) continue;
    if (count[state]++ === 0) seen[state] = order++;
  }
  const candidates: number[] = [];
  for (let s = 1; s < count.length; s++) if (count[s] > 0) candidates.push(s);
  candidates.sort((a, b) => count[b] - count[a] || seen[a] - seen[b]);
  const minCount = Math.max(MIN_OBJECTS_PER_INTERFACE, total / MIN_PROPORTION_PER_INTERFACE);
  const result: InterfaceDefinition[] = [];
  for (const s of candidates) {
    if (count[s] < minCount) break;
    const properties: string[] = [];
    for (let t = s; t > 0; t = parent[t]) properties.push(strings.get(property[t]) ?? '');
    properties.reverse();
    result.push({ name: `{${properties.map(formatPropertyName).join(', ')}}`, properties });
  }
  return result;
}

/**
 * Matches plain objects to interface definitions (DevTools' `applyInterfaceDefinitions`):
 * an object takes the definition with the most properties among those whose properties
 * it all has, the earliest on a tie.
 */
class InterfaceMatcher {
  /** Rank (in string order) of each string index among the definitions' property names; -1 none, -2 unknown. */
  private readonly rankOf: Int32Array;
  private readonly rankByName = new Map<string, number>();
  private readonly rankCount: number;
  /** Trie over sorted ranks: node * rankCount + rank → node; node 0 is the empty set. */
  private readonly next = new Map<number, number>();
  private readonly greatest: number[] = [-1];
  private readonly matchDef: number[] = [-1];
  private readonly matchSize: number[] = [0];
  private states = new Int32Array(16);
  private ranks = new Int32Array(16);

  constructor(
    private readonly strings: SnapshotStrings,
    definitions: readonly InterfaceDefinition[],
  ) {
    this.rankOf = new Int32Array(strings.length).fill(-2);
    const names = [...new Set(definitions.flatMap((d) => d.properties))].sort();
    names.forEach((name, i) => {
      this.rankByName.set(name, i);
    });
    this.rankCount = Math.max(1, names.length);
    definitions.forEach((def, index) => {
      const sorted = [...def.properties].sort();
      let node = 0;
      for (const name of sorted) {
        const rank = this.rankByName.get(name)!;
        const key = node * this.rankCount + rank;
        let to = this.next.get(key);
        if (to === undefined) {
          to = this.greatest.length;
          this.next.set(key, to);
          this.greatest.push(-1);
          this.matchDef.push(-1);
          this.matchSize.push(0);
          if (this.greatest[node] < rank) this.greatest[node] = rank;
        }
        node = to;
      }
      if (this.matchDef[node] === -1) {
        this.matchDef[node] = index;
        this.matchSize[node] = sorted.length;
      }
    });
    if (this.states.length < this.greatest.length)
      this.states = new Int32Array(this.greatest.length);
  }

  /** Index of the definition that names the plain object at `node`, or -1. */
  match(snapshot: HeapSnapshot, node: number, propertyEdge: number): number {
    const { edges, firstEdge } = snapshot;
    const efc = snapshot.edgeFieldCount;
    const { type: eTypeOff, nameOrIndex: eNameOff } = snapshot.edgeOffsets;
    let k = 0;
    for (let e = firstEdge[node], end = firstEdge[node + 1]; e < end; e += efc) {
      if (edges[e + eTypeOff] !== propertyEdge) continue;
      const name = edges[e + eNameOff];
      let rank = this.rankOf[name];
      if (rank === -2) {
        rank = this.rankByName.get(this.strings.get(name) ?? '') ?? -1;
        this.rankOf[name] = rank;
      }
      if (rank < 0) continue;
      if (k === this.ranks.length) {
        const bigger = new Int32Array(k * 2);
        bigger.set(this.ranks);
        this.ranks = bigger;
      }
      // Insertion sort: objects have few properties.
      let i = k++;
      while (i > 0 && this.ranks[i - 1] > rank) {
        this.ranks[i] = this.ranks[i - 1];
        i--;
      }
      this.ranks[i] = rank;
    }
    if (k === 0) return -1;
    const states = this.states;
    const { greatest, matchDef, matchSize, next, rankCount } = this;
    let live = 1;
    states[0] = 0;
    let best = -1;
    let bestSize = 0;
    for (let r = 0; r < k; r++) {
      const rank = this.ranks[r];
      const before = live;
      let kept = 0;
      for (let s = 0; s < before; s++) {
        const state = states[s];
        const to = next.get(state * rankCount + rank);
        // A state whose greatest transition is behind us can take no more.
        if (greatest[state] > rank) states[kept++] = state;
        if (to !== undefined) {
          states[before + (live - before)] = to;
          live++;
          const def = matchDef[to];
          if (
            def >= 0 &&
            (matchSize[to] > bestSize || (matchSize[to] === bestSize && def < best))
          ) {
            best = def;
            bestSize = matchSize[to];
          }
        }
      }
      // Compact: kept old states, then the new ones.
      const added = live - before;
      states.copyWithin(kept, before, before + added);
      live = kept + added;
    }
    return best;
  }
}

/** Names every node's class. */
export function classifyNodes(
  snapshot: HeapSnapshot,
  kinds: GraphKinds,
  options: ClassifyOptions = {},
): ClassTable {
  const { nodes, nodeFieldCount, nodeCount, strings } = snapshot;
  const { type: typeOff, name: nameOff } = snapshot.nodeOffsets;
  const objectNames = plainObjectNames(strings);
  const interfaces = options.interfaces ?? inferInterfaceDefinitions(snapshot, kinds, objectNames);
  const names: string[] = [];
  const locations: (ClassLocation | undefined)[] = [];
  const classByName = new Map<string, number>();
  const classByLocation = new Map<string, number>();
  const plainClass = (name: string): number => {
    let id = classByName.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      locations.push(undefined);
      classByName.set(name, id);
    }
    return id;
  };

  // One class per node type for the types named by type.
  const typeClass = snapshot.meta.nodeTypes.map((type, t) => {
    if (t === kinds.nodeHidden) return plainClass('(system)');
    if (t === kinds.nodeCode) return plainClass('(compiled code)');
    if (t === kinds.nodeClosure) return plainClass('Function');
    if (t === kinds.nodeRegExp) return plainClass('RegExp');
    if (t === kinds.nodeObject || t === kinds.nodeNative) return -1;
    return plainClass(`(${type})`);
  });
  // Class of an object / native node by its name's string index; -1 until needed.
  const nameClass = new Int32Array(strings.length).fill(-1);
  const classOfName = (index: number): number => {
    let id = nameClass[index];
    if (id === -1) {
      id = plainClass(domClassName(strings.get(index) ?? ''));
      nameClass[index] = id;
    }
    return id;
  };
  const detached = detachedNodes(snapshot, kinds);
  const detachedClass = new Map<number, number>();
  const classOfDetached = (index: number): number => {
    let id = detachedClass.get(index);
    if (id === undefined) {
      id = plainClass(domClassName(`Detached ${strings.get(index) ?? ''}`));
      detachedClass.set(index, id);
    }
    return id;
  };

  const matcher = interfaces.length > 0 ? new InterfaceMatcher(strings, interfaces) : undefined;
  const interfaceClass = interfaces.map((d) => plainClass(d.name));

  // Constructor locations of object nodes, looked up node after node.
  const loc = snapshot.locations;
  const lf = snapshot.meta.locationFields;
  const locIndex = lf.indexOf('object_index');
  const locScript = lf.indexOf('script_id');
  const locLine = lf.indexOf('line');
  const locColumn = lf.indexOf('column');
  const hasLocations =
    loc.length > 0 && locIndex >= 0 && locScript >= 0 && locLine >= 0 && locColumn >= 0;
  const locationAt = hasLocations
    ? locationLookup(loc, lf.length, locIndex, nodeFieldCount, nodeCount)
    : () => -1;
  // The last located class seen per unlocated class: objects of one class come in runs.
  const lastScript: number[] = [];
  const lastLine: number[] = [];
  const lastColumn: number[] = [];
  const lastClass: number[] = [];

  const classOf = new Uint32Array(nodeCount);
  const objectType = kinds.nodeObject;
  const nativeType = kinds.nodeNative;
  for (let n = 0, p = 0; n < nodeCount; n++, p += nodeFieldCount) {
    const type = nodes[p + typeOff];
    if (type !== objectType && type !== nativeType) {
      classOf[n] = typeClass[type];
      continue;
    }
    const nameIndex = nodes[p + nameOff];
    let id: number;
    if (matcher !== undefined && type === objectType && objectNames[nameIndex] === 1) {
      const def = matcher.match(snapshot, n, kinds.edgeProperty);
      id = def >= 0 ? interfaceClass[def] : classOfName(nameIndex);
    } else if (detached !== undefined && detached[n] !== 0) {
      id = classOfDetached(nameIndex);
    } else {
      id = classOfName(nameIndex);
    }
    const i = type === objectType ? locationAt(n) : -1;
    if (i >= 0) {
      const script = loc[i + locScript];
      const line = loc[i + locLine];
      const column = loc[i + locColumn];
      if (lastScript[id] === script && lastLine[id] === line && lastColumn[id] === column) {
        id = lastClass[id];
      } else {
        const key = `${script},${line},${column},${id}`;
        let located = classByLocation.get(key);
        if (located === undefined) {
          located = names.length;
          names.push(names[id]);
          locations.push({ scriptId: script, line, column });
          classByLocation.set(key, located);
        }
        lastScript[id] = script;
        lastLine[id] = line;
        lastColumn[id] = column;
        lastClass[id] = located;
        id = located;
      }
    }
    classOf[n] = id;
  }
  return { classOf, names, locations, interfaces };
}

/**
 * Native nodes in the "detached" DOM state (DevTools' `propagateDOMState`): the embedder
 * marks some nodes attached (1) or detached (2) in the `detachedness` field; native nodes
 * reachable from an attached one through non-hidden, non-weak edges are attached, and the
 * rest reachable from a detached one are detached. 1 for detached, 0 otherwise; undefined
 * when the snapshot has no such field.
 */
export function detachedNodes(snapshot: HeapSnapshot, kinds: GraphKinds): Uint8Array | undefined {
  const off = snapshot.nodeOffsets.detachedness;
  if (off < 0) return undefined;
  const { nodes, edges, firstEdge, nodeFieldCount, nodeCount } = snapshot;
  const efc = snapshot.edgeFieldCount;
  const typeOff = snapshot.nodeOffsets.type;
  const { type: eTypeOff, toNode: toOff } = snapshot.edgeOffsets;
  const ATTACHED = 1;
  const DETACHED = 2;
  // Most nodes are unmarked (a 100 MB Node.js snapshot had 8 marked): nothing is
  // allocated until the first marked one, and the marking below starts there.
  let firstMarked = 0;
  while (firstMarked < nodeCount && (nodes[firstMarked * nodeFieldCount + off] & 3) === 0) {
    firstMarked++;
  }
  if (firstMarked === nodeCount) return undefined;
  const state = new Uint8Array(nodeCount);
  const visited = new Uint8Array(nodeCount);
  const attached: number[] = [];
  const detachedList: number[] = [];
  let any = false;
  const visit = (n: number, newState: number) => {
    if (visited[n] !== 0) return;
    visited[n] = 1;
    if (nodes[n * nodeFieldCount + typeOff] !== kinds.nodeNative) return;
    state[n] = newState;
    if (newState === ATTACHED) attached.push(n);
    else if (newState === DETACHED) {
      detachedList.push(n);
      any = true;
    }
  };
  const propagate = (n: number, newState: number) => {
    for (let e = firstEdge[n], end = firstEdge[n + 1]; e < end; e += efc) {
      const type = edges[e + eTypeOff];
      if (type === kinds.edgeHidden || type === kinds.edgeWeak) continue;
      visit(edges[e + toOff] / nodeFieldCount, newState);
    }
  };
  for (
    let n = firstMarked, p = firstMarked * nodeFieldCount + off;
    n < nodeCount;
    n++, p += nodeFieldCount
  ) {
    const s = nodes[p] & 3;
    if (s !== 0) visit(n, s);
  }
  while (attached.length > 0) propagate(attached.pop()!, ATTACHED);
  while (detachedList.length > 0) {
    const n = detachedList.pop()!;
    if (state[n] !== ATTACHED) propagate(n, DETACHED);
  }
  if (!any) return undefined;
  for (let n = 0; n < nodeCount; n++) state[n] = state[n] === DETACHED ? 1 : 0;
  return state;
}

/** `<div id="a">` → `<div>`, `Detached <div id="a">` → `Detached <div>` (DevTools). */
function domClassName(name: string): string {
  if (name.startsWith('<')) {
    const space = name.indexOf(' ');
    return space === -1 ? name : `${name.slice(0, space)}>`;
  }
  if (name.startsWith('Detached <')) {
    const space = name.indexOf(' ', 10);
    return space === -1 ? name : `${name.slice(0, space)}>`;
  }
  return name;
}
