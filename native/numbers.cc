// The number arrays of a .heapsnapshot file (`nodes`, `edges`) parsed in native
// code: the same contract as readNumbersFast in src/formats/heapsnapshot-numbers.ts
// (V8's own layout only; anything else gives up and the JavaScript reader takes
// over and words the error), and the edge checks of heapsnapshot-edges.ts.

#include "numbers.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace heapscope {

namespace {

constexpr size_t kChunk = 1 << 20;

// Reads exactly `length` bytes at `offset`; false on a short read or an error.
bool ReadAt(int fd, uint8_t* into, size_t length, int64_t offset) {
  while (length > 0) {
    ssize_t n = pread(fd, into, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    into += n;
    length -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

// Parses the numbers that start before `limit` in `p`; each one ends before the
// sentinel (a non-digit) at the buffer's end. Stops at the first byte that is
// not in V8's layout. Returns where it stopped; `count` is updated.
const uint8_t* ParseNumbers(const uint8_t* p, const uint8_t* limit,
                            uint32_t* into, size_t capacity, size_t& count) {
  size_t n = count;
  while (p < limit) {
    const uint8_t* at = p;
    uint64_t value = static_cast<unsigned>(*p) - '0';
    if (value > 9) break;
    unsigned c;
    while ((c = static_cast<unsigned>(*++p) - '0') <= 9) value = value * 10 + c;
    if (p - at > 10 || value > UINT32_MAX || n == capacity) {
      p = at;
      break;
    }
    if (*p == '\n') p++;
    if (*p != ',') {
      p = at;
      break;
    }
    into[n++] = static_cast<uint32_t>(value);
    p++;
  }
  count = n;
  return p;
}

}  // namespace

int64_t ParseRange(int fd, int64_t start, int64_t end, uint32_t* into,
                   size_t capacity) {
  if (end - start < 2) return -1;
  // A number and its separator fit in the bytes kept back at a chunk's end.
  constexpr size_t kTail = 16;
  std::vector<uint8_t> buffer(kChunk + 1);
  uint8_t* base = buffer.data();
  size_t count = 0;
  size_t kept = 0;
  int64_t position = start;
  for (;;) {
    size_t want = static_cast<size_t>(std::min<int64_t>(
        static_cast<int64_t>(kChunk - kept), end - position));
    if (!ReadAt(fd, base + kept, want, position)) return -1;
    bool first = position == start;
    position += static_cast<int64_t>(want);
    bool last = position == end;
    size_t length = kept + want;
    base[length] = ' ';  // the sentinel
    const uint8_t* p = base;
    if (first) {
      if (*p != '[') return -1;
      p++;
      if (last && length == 2 && base[1] == ']') return 0;
    }
    if (last) {
      // All but the last number, which ends at the ']' (or "\n]").
      const uint8_t* close = base + length - 1;
      if (*close != ']') return -1;
      p = ParseNumbers(p, close, into, capacity, count);
      const uint8_t* at = p;
      uint64_t value = 0;
      while (p < close && static_cast<unsigned>(*p) - '0' <= 9)
        value = value * 10 + (*p++ - '0');
      if (p == at || p - at > 10 || value > UINT32_MAX || count == capacity)
        return -1;
      if (*p == '\n') p++;
      if (p != close) return -1;
      into[count++] = static_cast<uint32_t>(value);
      return static_cast<int64_t>(count);
    }
    const uint8_t* limit = base + (length > kTail ? length - kTail : 0);
    p = ParseNumbers(p, limit, into, capacity, count);
    if (p < limit) return -1;
    kept = static_cast<size_t>(base + length - p);
    memmove(base, p, kept);
  }
}

EdgeCheck CheckEdges(const uint32_t* edges, size_t length, const std::vector<double>& rules,
                     const uint8_t* indexNamed) {
  const auto fieldCount = static_cast<size_t>(rules[0]);
  const auto typeOffset = static_cast<size_t>(rules[1]);
  const auto nameOffset = static_cast<size_t>(rules[2]);
  const auto toOffset = static_cast<size_t>(rules[3]);
  const double typeCount = rules[4];
  const auto nodeFieldCount = static_cast<uint32_t>(rules[5]);
  const double nodesLength = rules[6];
  EdgeCheck check{fieldCount > 0 && length % fieldCount == 0 && nodeFieldCount > 0 &&
                      typeOffset < fieldCount && nameOffset < fieldCount && toOffset < fieldCount,
                  -1};
  int64_t maxName = -1;
  for (size_t p = 0; check.sound && p < length; p += fieldCount) {
    const uint32_t type = edges[p + typeOffset];
    const uint32_t to = edges[p + toOffset];
    if (type >= typeCount || to >= nodesLength || to % nodeFieldCount != 0) {
      check.sound = false;
    } else if (indexNamed[type] == 0) {
      maxName = std::max<int64_t>(maxName, edges[p + nameOffset]);
    }
  }
  check.maxName = static_cast<double>(maxName);
  return check;
}

}  // namespace heapscope
