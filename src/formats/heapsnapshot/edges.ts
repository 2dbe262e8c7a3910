/**
 * The checks every edge of a snapshot must pass (type known, target the start of a node,
 * name a string that exists), split so that the thread which parsed the edges can run
 * them: the rules come from the header, which precedes the edges; the one thing the
 * header cannot give, the number of strings (they come last), is left as the highest
 * string index an edge names. The reader compares that once the strings are in, and
 * checks edge by edge, to word the error, only if something is wrong.
 */

/** What every edge must satisfy, from the header. */
export interface EdgeRules {
  fieldCount: number;
  typeOffset: number;
  nameOffset: number;
  toOffset: number;
  /** Number of edge types. */
  typeCount: number;
  /** 1 for an edge type whose `name_or_index` is an index (element, hidden), else 0. */
  indexNamed: number[];
  nodeFieldCount: number;
  /** `node_count × node_fields`: `to_node` must be below it. */
  nodesLength: number;
}

export interface EdgeSummary {
  rules: EdgeRules;
  /** Every type known and every target the start of a node. */
  sound: boolean;
  /** Highest string index a string-named edge names; -1 if none. */
  maxName: number;
}

export function summarizeEdges(edges: Uint32Array, rules: EdgeRules): EdgeSummary {
  const { fieldCount, typeOffset, nameOffset, toOffset, typeCount, nodeFieldCount } = rules;
  const { nodesLength } = rules;
  const indexNamed = Uint8Array.from(rules.indexNamed);
  let maxName = -1;
  let sound = edges.length % fieldCount === 0;
  for (let p = 0; sound && p < edges.length; p += fieldCount) {
    const type = edges[p + typeOffset];
    const to = edges[p + toOffset];
    if (type >= typeCount || to >= nodesLength || to % nodeFieldCount !== 0) sound = false;
    else if (indexNamed[type] === 0) {
      const name = edges[p + nameOffset];
      if (name > maxName) maxName = name;
    }
  }
  return { rules, sound, maxName };
}
