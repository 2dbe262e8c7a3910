// The dominator tree of a heap snapshot's graph (see dominators.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapscope {

// A snapshot's edges, as src/model/snapshot/dominators.ts reads them.
struct EdgeGraph {
  const uint32_t* edges;
  size_t edgeLength;         // entries of `edges`
  const uint32_t* firstEdge; // nodeCount + 1 entries: index into `edges`
  uint32_t nodeCount;
  uint32_t edgeFieldCount;
  uint32_t toNode;           // offset of to_node in an edge
  uint32_t shift, inverse;   // node index -> ordinal: ((i >> shift) * inverse) mod 2^32
  const uint32_t* essential; // a bit per edge ordinal; null: all edges count
};

// The ordinal of the node at `index` in `nodes` (a multiple of the node field count).
inline uint32_t Ordinal(const EdgeGraph& g, uint32_t index) {
  return (index >> g.shift) * g.inverse;
}

// Whether firstEdge is a valid index of `edges` (the targets are checked as they
// are met). Every function below needs it; none reads out of bounds then.
bool ValidEdges(const EdgeGraph& g);

// The counting edges reversed: retainers of ordinal v are from[first[v] .. first[v + 1]).
// False (and `from` untouched) when a target is not a node or `from` is too short.
bool ReverseEdges(const EdgeGraph& g, uint32_t* first, uint32_t* from, size_t fromLength);

// Working arrays, nodeCount + 1 entries each, given by the caller.
struct DominatorArrays {
  uint32_t* num;       // scratch
  uint32_t* vertex;    // out: number -> ordinal (order[i] = vertex[i + 1])
  uint32_t* parent;    // scratch
  uint32_t* semi;      // scratch
  uint32_t* ancestor;  // out: the immediate dominator of each ordinal
};

// Semi-NCA, exactly as dominators() in dominators.ts (same numbering, same
// treatment of what the root does not reach). `first`/`from`: ReverseEdges'
// result; `from` is overwritten. Returns the nodes the root reaches, -1 when an
// edge's target or a retainer is not a node, -2 when memory could not be had.
int64_t Dominators(const EdgeGraph& g, uint32_t root, const uint32_t* first,
                   uint32_t* from, size_t fromLength, const DominatorArrays& a);

// retainedSizes() of dominators.ts: each node's self size plus those of all it
// dominates, walking `order` (vertex[1 .. n]) backwards.
void RetainedSizes(const uint32_t* dominator, const uint32_t* order, uint32_t count,
                   const double* self, double* retained);

// dominatorChildren() of dominators.ts: children of n in
// children[first[n] .. first[n + 1]); first has count + 1 entries, children count - 1.
void DominatorChildren(const uint32_t* dominator, uint32_t count, uint32_t root, uint32_t* first,
                       uint32_t* children);

}  // namespace heapscope
