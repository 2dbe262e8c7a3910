// The native twin of pageOwnedNodes (its walk), essentialEdges and shallowSizes in
// src/model/snapshot/ownership.ts: DevTools' rules for which edges retain and who is
// charged for internal arrays. Read that file for the rules; the results are the
// same, and the tests compare them.

#include "ownership.h"

#include "scratch.h"

#include <algorithm>
#include <type_traits>
#include <vector>

namespace heapscope {

namespace {

inline bool Is(uint32_t value, int64_t kind) { return static_cast<int64_t>(value) == kind; }

// The WeakMap table named by an internal edge's name, or -1.
int64_t TableOf(const EphemeronTables& e, uint32_t name) {
  const uint32_t* end = e.names + e.count;
  const uint32_t* at = std::lower_bound(e.names, end, name);
  return at != end && *at == name ? static_cast<int64_t>(e.tables[at - e.names]) : -1;
}

}  // namespace

bool SpreadOwned(const EdgeGraph& g, uint32_t edgeType, const Kinds& k,
                 const uint32_t* seeds, size_t seedCount, uint8_t* owned) {
  std::vector<uint32_t> stack;
  stack.reserve(1024);
  for (size_t i = 0; i < seedCount; i++) {
    const uint32_t s = seeds[i];
    if (s >= g.nodeCount) return false;
    if (owned[s] == 0) {
      owned[s] = 1;
      stack.push_back(s);
    }
  }
  const uint32_t efc = g.edgeFieldCount;
  while (!stack.empty()) {
    const uint32_t n = stack.back();
    stack.pop_back();
    for (uint32_t e = g.firstEdge[n], end = g.firstEdge[n + 1]; e < end; e += efc) {
      const uint32_t to = Ordinal(g, g.edges[e + g.toNode]);
      if (to >= g.nodeCount) return false;
      if (owned[to] != 0 || Is(g.edges[e + edgeType], k.edgeWeak)) continue;
      owned[to] = 1;
      stack.push_back(to);
    }
  }
  return true;
}

void EssentialEdges(const EdgeGraph& g, const NodeTable& t, uint32_t idOffset,
                    uint32_t edgeType, uint32_t edgeName, const Kinds& k,
                    const uint8_t* owned, const EphemeronTables& ephemerons, uint32_t* bits) {
  const uint32_t efc = g.edgeFieldCount;
  const uint32_t nfc = t.nodeFieldCount;
  uint32_t ordinal = 0;
  for (uint32_t n = 0; n < g.nodeCount; n++) {
    const uint32_t nodeIndex = n * nfc;
    const bool fromRoot = n == 0;
    const uint8_t ownedFrom = owned[n];
    for (uint32_t e = g.firstEdge[n], end = g.firstEdge[n + 1]; e < end; e += efc, ordinal++) {
      const uint32_t type = g.edges[e + edgeType];
      if (Is(type, k.edgeWeak)) continue;
      if (ephemerons.count > 0 && Is(type, k.edgeInternal)) {
        const int64_t table = TableOf(ephemerons, g.edges[e + edgeName]);
        if (table >= 0 && table == t.nodes[nodeIndex + idOffset]) continue;
      }
      const uint32_t to = g.edges[e + g.toNode];
      if (to == nodeIndex) continue;
      if (!fromRoot) {
        if (Is(type, k.edgeShortcut)) continue;
        const uint32_t target = Ordinal(g, to);
        if (ownedFrom == 0 && target < g.nodeCount && owned[target] != 0) continue;
      }
      bits[ordinal >> 5] |= 1u << (ordinal & 31);
    }
  }
}

template <typename Size>
bool ShallowSizes(const EdgeGraph& g, const NodeTable& t, uint32_t typeOffset,
                  uint32_t nameOffset, uint32_t sizeOffset, uint32_t edgeType,
                  const Kinds& k, int64_t externalString, Size* sizes, uint32_t* owners) {
  constexpr uint32_t kUnvisited = 0xffffffff;
  constexpr uint32_t kMultiple = 0xfffffffe;
  const uint32_t count = g.nodeCount;
  const uint32_t nfc = t.nodeFieldCount;
  Scratch<uint32_t> ownable((count >> 5) + 1);
  if (ownable.data() == nullptr) return false;
  for (uint32_t n = 0, p = 0; n < count; n++, p += nfc) {
    sizes[n] = t.nodes[p + sizeOffset];
    const uint32_t type = t.nodes[p + typeOffset];
    if (Is(type, k.nodeHidden) || Is(type, k.nodeArray) ||
        (Is(type, k.nodeNative) && Is(t.nodes[p + nameOffset], externalString))) {
      owners[n] = kUnvisited;
      ownable[n >> 5] |= 1u << (n & 31);
    } else {
      owners[n] = n;
    }
  }
  const uint32_t efc = g.edgeFieldCount;
  std::vector<uint32_t> work;
  work.reserve(1024);
  auto spread = [&](uint32_t n, uint32_t owner) {
    for (uint32_t e = g.firstEdge[n], end = g.firstEdge[n + 1]; e < end; e += efc) {
      const uint32_t to = Ordinal(g, g.edges[e + g.toNode]);
      if (to >= count || (ownable[to >> 5] & (1u << (to & 31))) == 0) continue;
      const uint32_t current = owners[to];
      if (current == owner || current == kMultiple) continue;
      if (Is(g.edges[e + edgeType], k.edgeWeak)) continue;
      owners[to] = current == kUnvisited ? owner : kMultiple;
      work.push_back(to);
    }
  };
  for (uint32_t n = 0; n < count; n++) {
    if (owners[n] != n) continue;
    spread(n, n);
    while (!work.empty()) {
      const uint32_t m = work.back();
      work.pop_back();
      spread(m, owners[m]);
    }
  }
  for (uint32_t n = 0; n < count; n++) {
    const uint32_t owner = owners[n];
    if (owner == kUnvisited || owner == kMultiple || owner == n) continue;
    if (owner == 0 || Is(t.nodes[static_cast<size_t>(owner) * nfc + typeOffset], k.nodeSynthetic)) {
      continue;
    }
    if constexpr (std::is_same_v<Size, uint32_t>) {
      const uint64_t total = static_cast<uint64_t>(sizes[owner]) + sizes[n];
      if (total > 0xffffffffu) return false;
      sizes[owner] = static_cast<uint32_t>(total);
    } else {
      sizes[owner] += sizes[n];
    }
    sizes[n] = 0;
  }
  return true;
}

template bool ShallowSizes<uint32_t>(const EdgeGraph&, const NodeTable&, uint32_t, uint32_t,
                                     uint32_t, uint32_t, const Kinds&, int64_t, uint32_t*,
                                     uint32_t*);
template bool ShallowSizes<double>(const EdgeGraph&, const NodeTable&, uint32_t, uint32_t,
                                   uint32_t, uint32_t, const Kinds&, int64_t, double*, uint32_t*);

}  // namespace heapscope
