// The string literals of a .heapsnapshot file's `strings` (see literals.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapscope {

// The literal table being filled: bytes[ends[k - 1] .. ends[k]) is literal k's body.
struct LiteralTable {
  uint8_t* bytes;
  size_t bytesCapacity;
  uint32_t* ends;
  uint8_t* flags;
  size_t capacity;  // of ends and flags
  size_t length;    // bytes used
  size_t count;     // literals
  bool stoppedAfter;
};

// scanLiterals() of src/formats/heapsnapshot-literals.ts: literals of V8's layout
// from buf[i] (the first byte of a body) until anything else; returns where it
// stopped. The flags: 1 for a body with escapes, 2 for one with raw UTF-8.
size_t ScanLiterals(const uint8_t* buf, size_t i, size_t end, LiteralTable& table);

}  // namespace heapscope
