// Which edges retain, and who owns the bytes (see ownership.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dominators.h"

namespace heapscope {

// A snapshot's nodes, beside its EdgeGraph.
struct NodeTable {
  const uint32_t* nodes;  // nodeCount * nodeFieldCount entries
  uint32_t nodeFieldCount;
};

// Node and edge types by index in the snapshot's type lists; -1 when absent.
struct Kinds {
  int64_t nodeHidden, nodeArray, nodeNative, nodeSynthetic;
  int64_t edgeInternal, edgeWeak, edgeShortcut;
};

// Ephemeron edge names: string index -> the WeakMap table's object id, sorted by name.
struct EphemeronTables {
  const uint32_t* names;
  const uint32_t* tables;
  size_t count;
};

// Marks in `owned` (1 per node) what the seeds reach through non-weak edges.
// False when an edge's target is not a node.
bool SpreadOwned(const EdgeGraph& g, uint32_t edgeType, const Kinds& k,
                 const uint32_t* seeds, size_t seedCount, uint8_t* owned);

// essentialEdges() of ownership.ts: a bit per edge ordinal in `bits` (zeroed).
void EssentialEdges(const EdgeGraph& g, const NodeTable& t, uint32_t idOffset,
                    uint32_t edgeType, uint32_t edgeName, const Kinds& k,
                    const uint8_t* owned, const EphemeronTables& ephemerons, uint32_t* bits);

// shallowSizes() of ownership.ts into 32-bit sizes or doubles, with owners[] as
// working room (nodeCount entries). False when an owner's total would not fit in
// 32 bits, or memory could not be had.
template <typename Size>
bool ShallowSizes(const EdgeGraph& g, const NodeTable& t, uint32_t typeOffset,
                  uint32_t nameOffset, uint32_t sizeOffset, uint32_t edgeType,
                  const Kinds& k, int64_t externalString, Size* sizes, uint32_t* owners);

}  // namespace heapscope
