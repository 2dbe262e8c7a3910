// Helpers for reading .heapsnapshot files (see snapshot.cc).
#pragma once

#include <v8.h>

namespace heapscope {

void ExportSnapshotFunctions(v8::Isolate* isolate, v8::Local<v8::Context> ctx,
                             v8::Local<v8::Object> exports);

}  // namespace heapscope
