/**
 * Full names of V8's built-in functions in an allocation trace: `Array.prototype.push`
 * for the `push` a trace names.
 *
 * V8's tracker names a built-in by its bare name (`push`, `get`, `slice`) with no script:
 * several built-ins share a name (`get` is Map's, WeakMap's, Reflect's…). Each trace
 * function info carries the snapshot id of the function's shared info, and the heap
 * snapshot says which objects hold the functions made from it: a built-in is named by
 * where the global object reaches it, as in `Array.prototype.push` (a constructor's
 * prototype), `Object.keys` (a constructor's own function), `JSON.parse` (a namespace
 * object) or `parseInt` (the global itself). One held elsewhere only (an iterator's
 * prototype) is named by the function that holds its prototype; none at all keeps its
 * bare name.
 */
import type { HeapSnapshot } from './heap-snapshot.js';

/** Snapshot ids of shared function infos → the full name of the built-in they are. */
export function builtinNames(snap: HeapSnapshot, sharedIds: Set<number>): Map<number, string> {
  const names = new Map<number, string>();
  if (sharedIds.size === 0) return names;
  const stride = snap.nodeFieldCount;
  const { type: typeOff, name: nameOff, id: idOff } = snap.nodeOffsets;
  const edgeStride = snap.edgeFieldCount;
  const { type: edgeTypeOff, nameOrIndex: edgeNameOff, toNode: toOff } = snap.edgeOffsets;
  const closureType = snap.meta.nodeTypes.indexOf('closure');
  const property = snap.meta.edgeTypes.indexOf('property');
  const internal = snap.meta.edgeTypes.indexOf('internal');
  const n = snap.nodeCount;
  const nodeName = (i: number) => snap.strings.get(snap.nodes[i * stride + nameOff]!) ?? '';
  const edgeName = (e: number) => snap.strings.get(snap.edges[e + edgeNameOff]!) ?? '';

  // The shared infos asked for, by node.
  const sharedOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = snap.nodes[i * stride + idOff]!;
    if (sharedIds.has(id)) sharedOf.set(i, id);
  }
  // Closures made from them.
  const closureShared = new Map<number, number>();
  for (let h = 0; h < n; h++) {
    const isClosure = snap.nodes[h * stride + typeOff] === closureType;
    for (let e = snap.firstEdge[h]!; e < snap.firstEdge[h + 1]!; e += edgeStride) {
      const to = snap.edges[e + toOff]! / stride;
      const type = snap.edges[e + edgeTypeOff];
      if (isClosure && type === internal && sharedOf.has(to) && edgeName(e) === 'shared') {
        closureShared.set(h, sharedOf.get(to)!);
      }
    }
  }
  if (closureShared.size === 0) return names;
  // The global objects: the snapshot's root reaches each by a shortcut edge (DevTools'
  // user roots), to the global object itself (V8 11, 12) or to its native context, which
  // holds it as `global_object` (V8 14).
  const globals = new Set<number>();
  const shortcut = snap.meta.edgeTypes.indexOf('shortcut');
  for (let e = snap.firstEdge[0]!; e < snap.firstEdge[1]!; e += edgeStride) {
    if (snap.edges[e + edgeTypeOff] !== shortcut) continue;
    const root = snap.edges[e + toOff]! / stride;
    let global = root;
    for (let c = snap.firstEdge[root]!; c < snap.firstEdge[root + 1]!; c += edgeStride) {
      if (snap.edges[c + edgeTypeOff] === internal && edgeName(c) === 'global_object') {
        global = snap.edges[c + toOff]! / stride;
      }
    }
    globals.add(global);
  }
  // Who holds those closures, by which property; and who holds those holders.
  const holdersOf = new Map<number, { holder: number; name: string }[]>();
  const addHolder = (to: number, holder: number, name: string) => {
    let list = holdersOf.get(to);
    if (!list) {
      list = [];
      holdersOf.set(to, list);
    }
    list.push({ holder, name });
  };
  for (let h = 0; h < n; h++) {
    for (let e = snap.firstEdge[h]!; e < snap.firstEdge[h + 1]!; e += edgeStride) {
      if (snap.edges[e + edgeTypeOff] !== property) continue;
      const to = snap.edges[e + toOff]! / stride;
      if (closureShared.has(to)) addHolder(to, h, edgeName(e));
    }
  }
  const owners = new Set<number>();
  for (const list of holdersOf.values()) for (const { holder } of list) owners.add(holder);
  for (let h = 0; h < n; h++) {
    for (let e = snap.firstEdge[h]!; e < snap.firstEdge[h + 1]!; e += edgeStride) {
      if (snap.edges[e + edgeTypeOff] !== property) continue;
      const to = snap.edges[e + toOff]! / stride;
      if (owners.has(to) && to !== h) addHolder(to, h, edgeName(e));
    }
  }
  // What the global objects hold, by name (the first name wins: `Array`, not an alias).
  const globalProps = new Map<number, string>();
  for (const global of globals) {
    for (let e = snap.firstEdge[global]!; e < snap.firstEdge[global + 1]!; e += edgeStride) {
      if (snap.edges[e + edgeTypeOff] !== property) continue;
      const to = snap.edges[e + toOff]! / stride;
      if (!globalProps.has(to)) globalProps.set(to, edgeName(e));
    }
  }
  const globalName = (i: number): string | undefined => globalProps.get(i);

  // Each closure's candidate names, best first: reached from the global object, then not.
  for (const [closure, sharedId] of closureShared) {
    const bare = nodeName(closure);
    let best: { rank: number; name: string } | undefined;
    const offer = (rank: number, name: string) => {
      if (!best || rank < best.rank || (rank === best.rank && name.length < best.name.length)) {
        best = { rank, name };
      }
    };
    for (const { holder, name } of holdersOf.get(closure) ?? []) {
      if (name.startsWith('<symbol')) continue;
      const own = name === bare ? 0 : 4; // `values` rather than its alias `Symbol.iterator`
      if (globals.has(holder)) {
        offer(own, name);
        continue;
      }
      const holderGlobal = globalName(holder);
      if (holderGlobal !== undefined) {
        offer(own, `${holderGlobal}.${name}`); // Object.keys, JSON.parse
        continue;
      }
      for (const up of holdersOf.get(holder) ?? []) {
        if (up.name !== 'prototype' || snap.nodes[up.holder * stride + typeOff] !== closureType) {
          continue;
        }
        const ctor = globalName(up.holder);
        if (ctor !== undefined) offer(own + 1, `${ctor}.prototype.${name}`);
        else offer(own + 2, `${nodeName(up.holder)}.prototype.${name}`);
      }
    }
    if (best && !names.has(sharedId)) names.set(sharedId, best.name);
  }
  return names;
}
