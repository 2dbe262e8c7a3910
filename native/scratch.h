// Working arrays of a task, mapped straight from the kernel and unmapped when done:
// freed memory in malloc's arenas (the thread pool's especially) stays resident,
// and these arrays are tens of megabytes for one snapshot.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace heapscope {

template <typename T>
class Scratch {
 public:
  explicit Scratch(size_t count) : bytes_(count * sizeof(T)) {
    if (bytes_ == 0) return;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<T*>(p);
  }
  ~Scratch() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Zero-filled; null when the memory could not be had (or for none).
  T* data() const { return data_; }
  T& operator[](size_t i) const { return data_[i]; }

 private:
  size_t bytes_;
  T* data_ = nullptr;
};

}  // namespace heapscope
