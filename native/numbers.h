// Number arrays of a .heapsnapshot file, parsed (see numbers.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace heapscope {

// The array `[start, end)` of `fd` ('[' at start, ']' just before end) into
// `into`: numbers separated by "," or "\n,", each below 2^32, at most
// `capacity` of them. Returns the count, or -1 at anything else.
int64_t ParseRange(int fd, int64_t start, int64_t end, uint32_t* into, size_t capacity);

struct EdgeCheck {
  bool sound;      // every type known, every target the start of a node
  double maxName;  // highest string index a string-named edge names; -1 if none
};

// summarizeEdges() of heapsnapshot-edges.ts. rules: fieldCount, typeOffset,
// nameOffset, toOffset, typeCount, nodeFieldCount, nodesLength; indexNamed: 1
// per edge type named by an index.
EdgeCheck CheckEdges(const uint32_t* edges, size_t length, const std::vector<double>& rules,
                     const uint8_t* indexNamed);

}  // namespace heapscope
