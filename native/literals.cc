// The native twin of scanLiterals (src/formats/heapsnapshot-literals.ts): the
// fast loop over the `strings` of a .heapsnapshot file in V8's layout
// (`"…",\n"…",…`). It stops where that one does (a literal that runs past the
// bytes given, no room, an invalid escape, another separator), so that the
// JavaScript state machine takes over there and words any error.

#include "literals.h"

#include <cstring>

namespace heapscope {

namespace {

constexpr uint8_t kEscaped = 1;
constexpr uint8_t kNonAscii = 2;

int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// validEscapes() of snapshot-strings.ts.
bool ValidEscapes(const uint8_t* bytes, size_t start, size_t end) {
  for (size_t i = start; i < end; i++) {
    if (bytes[i] != '\\') continue;
    if (i + 1 >= end) return false;
    const uint8_t c = bytes[++i];
    if (c == 'u') {
      if (i + 4 >= end) return false;
      for (size_t k = 1; k <= 4; k++) {
        if (HexValue(bytes[i + k]) < 0) return false;
      }
      i += 4;
    } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' &&
               c != 'r' && c != 't') {
      return false;
    }
  }
  return true;
}

}  // namespace

size_t ScanLiterals(const uint8_t* buf, size_t i, size_t end, LiteralTable& t) {
  size_t length = t.length;
  size_t count = t.count;
  size_t stop = i;
  bool after = false;
  for (;;) {
    size_t j = i;
    uint8_t bits = 0;
    uint8_t escaped = 0;
    while (j < end) {
      const uint8_t c = buf[j];
      if (c == '"') break;
      bits |= c;
      if (c == '\\') {
        escaped = kEscaped;
        j += 2;
      } else {
        j++;
      }
    }
    if (j >= end) break;
    const size_t n = j - i;
    if (length + n > t.bytesCapacity || count == t.capacity) break;
    std::memcpy(t.bytes + length, buf + i, n);
    length += n;
    if (escaped != 0 && !ValidEscapes(t.bytes, length - n, length)) {
      length -= n;
      break;
    }
    t.ends[count] = static_cast<uint32_t>(length);
    t.flags[count] = escaped | ((bits & 0x80) != 0 ? kNonAscii : 0);
    count++;
    stop = j + 1;
    after = true;
    size_t k = j + 1;
    if (k >= end || buf[k] != ',') break;
    if (++k < end && buf[k] == '\n') k++;
    if (k >= end || buf[k] != '"') break;
    i = k + 1;
    stop = i;
    after = false;
  }
  t.length = length;
  t.count = count;
  t.stoppedAfter = after;
  return stop;
}

}  // namespace heapscope
