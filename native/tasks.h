// Work run on libuv's thread pool, its result handed to a JavaScript callback on
// the thread that asked for it (see tasks.cc).
#pragma once

#include <v8.h>

#include <functional>
#include <memory>
#include <vector>

namespace heapscope {

// What a task's work returns: up to three numbers, the callback's arguments.
struct TaskResult {
  double values[3] = {0, 0, 0};
  int count = 0;
};

// Runs `work` on the thread pool, then calls `callback(...result)` on this
// isolate's thread. `keep` holds the memory the work reads and writes alive
// until then, whatever JavaScript does meanwhile.
void QueueTask(v8::Isolate* isolate, v8::Local<v8::Context> context,
               v8::Local<v8::Function> callback,
               std::vector<std::shared_ptr<v8::BackingStore>> keep,
               std::function<TaskResult()> work);

}  // namespace heapscope
