// Dominators of a heap snapshot's graph: the native twin of dominators() and
// reverseEdges() in src/model/snapshot/dominators.ts (read that file for the
// algorithm and why it is done this way); the results are the same, array for
// array, and the tests compare them.

#include "dominators.h"

#include "scratch.h"

#include <vector>

namespace heapscope {

namespace {

inline bool Counts(const EdgeGraph& g, uint32_t o) {
  return g.essential == nullptr || (g.essential[o >> 5] & (1u << (o & 31))) != 0;
}

inline bool Test(const Scratch<uint32_t>& bits, uint32_t v) {
  return (bits[v >> 5] & (1u << (v & 31))) != 0;
}

inline void Mark(const Scratch<uint32_t>& bits, uint32_t v) { bits[v >> 5] |= 1u << (v & 31); }

}  // namespace

bool ValidEdges(const EdgeGraph& g) {
  if (g.edgeFieldCount == 0 || g.toNode >= g.edgeFieldCount ||
      g.edgeLength % g.edgeFieldCount != 0 || g.firstEdge[0] != 0 ||
      g.firstEdge[g.nodeCount] != g.edgeLength) {
    return false;
  }
  for (uint32_t v = 0; v < g.nodeCount; v++) {
    if (g.firstEdge[v] > g.firstEdge[v + 1] || g.firstEdge[v] % g.edgeFieldCount != 0) {
      return false;
    }
  }
  return true;
}

bool ReverseEdges(const EdgeGraph& g, uint32_t* first, uint32_t* from, size_t fromLength) {
  const uint32_t n = g.nodeCount;
  for (uint32_t v = 0; v <= n; v++) first[v] = 0;
  uint32_t o = 0;
  for (size_t e = g.toNode; e < g.edgeLength; e += g.edgeFieldCount, o++) {
    if (!Counts(g, o)) continue;
    const uint32_t t = Ordinal(g, g.edges[e]);
    if (t >= n) return false;
    first[t]++;
  }
  for (uint32_t v = 1; v <= n; v++) first[v] += first[v - 1];
  if (first[n] > fromLength) return false;
  for (uint32_t v = 0; v < n; v++) {
    const uint32_t end = g.firstEdge[v + 1];
    o = g.firstEdge[v] / g.edgeFieldCount;
    for (uint32_t e = g.firstEdge[v]; e < end; e += g.edgeFieldCount, o++) {
      if (Counts(g, o)) from[--first[Ordinal(g, g.edges[e + g.toNode])]] = v;
    }
  }
  return true;
}

int64_t Dominators(const EdgeGraph& g, uint32_t root, const uint32_t* first,
                   uint32_t* from, size_t fromLength, const DominatorArrays& a) {
  const uint32_t nodeCount = g.nodeCount;
  if (root >= nodeCount || first[0] != 0 || first[nodeCount] > fromLength) return -1;
  for (uint32_t v = 0; v < nodeCount; v++) {
    if (first[v] > first[v + 1]) return -1;
  }
  bool valid = true;
  uint32_t* num = a.num;
  uint32_t* vertex = a.vertex;
  uint32_t* parent = a.parent;
  Scratch<uint32_t> seen((nodeCount >> 5) + 1);
  if (seen.data() == nullptr) return -2;
  uint32_t n = 0;
  // The path being searched: each node's number, its next edge and its end.
  struct Frame {
    uint32_t number, edge, end;
  };
  std::vector<Frame> stack;
  stack.reserve(1024);
  const uint32_t efc = g.edgeFieldCount;
  auto dfs = [&](uint32_t start, uint32_t parentNumber) {
    Mark(seen, start);
    vertex[++n] = start;
    parent[n] = parentNumber;
    stack.push_back({n, g.firstEdge[start] / efc, g.firstEdge[start + 1] / efc});
    while (!stack.empty()) {
      Frame& top = stack.back();
      uint32_t o = top.edge;
      int64_t w = -1;
      for (; o < top.end; o++) {
        if (!Counts(g, o)) continue;
        const uint32_t t = Ordinal(g, g.edges[static_cast<size_t>(o) * efc + g.toNode]);
        if (t >= nodeCount) {
          valid = false;
          continue;
        }
        if (!Test(seen, t)) {
          w = t;
          o++;
          break;
        }
      }
      top.edge = o;
      if (w < 0) {
        stack.pop_back();
        continue;
      }
      const uint32_t next = static_cast<uint32_t>(w);
      Mark(seen, next);
      vertex[++n] = next;
      parent[n] = top.number;
      stack.push_back({n, g.firstEdge[next] / efc, g.firstEdge[next + 1] / efc});
    }
  };
  dfs(root, 0);
  if (!valid) return -1;
  const uint32_t reached = n;
  if (n < nodeCount) {
    for (uint32_t v = 0; v < nodeCount; v++) {
      if (!Test(seen, v) && first[v] == first[v + 1]) dfs(v, 1);
    }
  }
  const uint32_t searched = n;
  if (n < nodeCount) {
    for (uint32_t v = 0; v < nodeCount; v++) {
      if (!Test(seen, v)) {
        vertex[++n] = v;
        parent[n] = 1;
      }
    }
  }
  if (!valid) return -1;
  for (uint32_t i = 1; i <= n; i++) num[vertex[i]] = i;

  const uint32_t fromEnd = first[nodeCount];
  for (uint32_t k = 0; k < fromEnd; k++) {
    if (from[k] >= nodeCount) return -1;
    const uint32_t v = num[from[k]];
    from[k] = v > searched ? 0 : v;
  }

  uint32_t* semi = a.semi;
  uint32_t* label = num;
  uint32_t* ancestor = a.ancestor;
  for (uint32_t i = 0; i <= n; i++) {
    semi[i] = i;
    label[i] = i;
    ancestor[i] = 0;
  }
  std::vector<uint32_t> path;
  path.reserve(1024);
  auto compress = [&](uint32_t v) {
    while (ancestor[ancestor[v]] != 0) {
      path.push_back(v);
      v = ancestor[v];
    }
    while (!path.empty()) {
      const uint32_t w = path.back();
      path.pop_back();
      const uint32_t up = ancestor[w];
      if (semi[label[up]] < semi[label[w]]) label[w] = label[up];
      ancestor[w] = ancestor[up];
    }
  };
  for (uint32_t w = n; w >= 2; w--) {
    const uint32_t ordinal = vertex[w];
    const uint32_t end = first[ordinal + 1];
    uint32_t best = 1;
    bool any = false;
    for (uint32_t k = first[ordinal]; k < end; k++) {
      const uint32_t v = from[k];
      if (v == 0) continue;
      if (!any) {
        any = true;
        best = w;
      }
      uint32_t u = v;
      if (ancestor[v] != 0) {
        compress(v);
        u = label[v];
      }
      if (semi[u] < best) best = semi[u];
    }
    semi[w] = best;
    ancestor[w] = parent[w];
  }

  uint32_t* idom = label;
  idom[1] = 1;
  for (uint32_t w = 2; w <= n; w++) {
    uint32_t d = parent[w];
    const uint32_t s = semi[w];
    while (d > s) d = idom[d];
    idom[w] = d;
  }

  uint32_t* dominator = ancestor;
  for (uint32_t w = 1; w <= n; w++) dominator[vertex[w]] = vertex[idom[w]];
  return reached;
}

void RetainedSizes(const uint32_t* dominator, const uint32_t* order, uint32_t count,
                   const double* self, double* retained) {
  for (uint32_t n = 0; n < count; n++) retained[n] = self[n];
  for (uint32_t i = count - 1; i > 0; i--) {
    const uint32_t n = order[i];
    retained[dominator[n]] += retained[n];
  }
}

void DominatorChildren(const uint32_t* dominator, uint32_t count, uint32_t root, uint32_t* first,
                       uint32_t* children) {
  for (uint32_t n = 0; n <= count; n++) first[n] = 0;
  for (uint32_t n = 0; n < count; n++) {
    if (n != root) first[dominator[n]]++;
  }
  for (uint32_t n = 0, sum = 0; n <= count; n++) {
    sum += first[n];
    first[n] = sum;
  }
  for (uint32_t n = count; n-- > 0;) {
    if (n != root) children[--first[dominator[n]]] = n;
  }
}

}  // namespace heapscope
