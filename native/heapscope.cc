// heapscope native helper: direct access to v8::HeapProfiler without the
// inspector (no 50 ms timer, no ids handed out, no self-pollution).
//
// Context-aware (NODE_MODULE_INIT): one State per Environment/isolate, so it
// loads in worker threads. No global mutable state. All State fields are only
// touched on the isolate's own thread (JS calls, GC prologue/epilogue
// callbacks and API interrupts all run there).
//
// Exports:
//   startTracking(trackAllocations = true)
//   stopTracking()
//   gcStats() -> { scavenges, markCompacts, peakLiveAfterGc, ... }
//   writeSnapshot(path)
//   startPeakSampling(intervalBytes = 32768, stackDepth = 64,
//                     onMinorGc = false)
//   stopPeakSampling()
//   peakSampleJson() -> string ('' when nothing was sampled)

#include <node.h>
#include <v8-profiler.h>
#include <v8.h>

#include "snapshot.h"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace heapscope {

using v8::Context;
using v8::External;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::GCCallbackFlags;
using v8::GCType;
using v8::HandleScope;
using v8::HeapProfiler;
using v8::HeapSnapshot;
using v8::HeapStatistics;
using v8::Isolate;
using v8::Local;
using v8::NewStringType;
using v8::Number;
using v8::Object;
using v8::String;
using v8::Value;

// kGCTypeMinorMarkCompact was renamed kGCTypeMinorMarkSweep in V8 12; the
// bit (1 << 1) is the same in every version we build for.
constexpr int kMinorGcMask = v8::kGCTypeScavenge | (1 << 1);
constexpr int kMajorGcMask = v8::kGCTypeMarkSweepCompact;

// V8 14.x added type tags to v8::External and deprecated the untagged calls.
#if V8_MAJOR_VERSION > 14 || (V8_MAJOR_VERSION == 14 && V8_MINOR_VERSION >= 6)
#define HEAPSCOPE_TAGGED_EXTERNAL 1
#else
#define HEAPSCOPE_TAGGED_EXTERNAL 0
#endif

static Local<External> NewExternal(Isolate* isolate, void* p) {
#if HEAPSCOPE_TAGGED_EXTERNAL
  return External::New(isolate, p, v8::kExternalPointerTypeTagDefault);
#else
  return External::New(isolate, p);
#endif
}

static void* ExternalValue(Local<Value> v) {
#if HEAPSCOPE_TAGGED_EXTERNAL
  return v.As<External>()->Value(v8::kExternalPointerTypeTagDefault);
#else
  return v.As<External>()->Value();
#endif
}

static int64_t MonotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// An OutputStream that drops what it is given (GetHeapStats needs one).
class DiscardStream : public v8::OutputStream {
 public:
  void EndOfStream() override {}
  WriteResult WriteAsciiChunk(char*, int) override { return kContinue; }
  WriteResult WriteHeapStatsChunk(v8::HeapStatsUpdate*, int) override {
    return kContinue;
  }
};

struct State {
  Isolate* isolate = nullptr;
  bool callbacks_installed = false;
  bool tracking_allocations = false;
  int64_t start_us = 0;
  // Heap-object id handed out right after tracking began. Objects with smaller ids
  // existed before: V8 does not move their allocation trace when the GC moves them,
  // so any trace id a snapshot shows for them is stale (left by a dead object).
  double first_tracked_id = 0;

  // Heap used after each GC, as (µs since start, bytes) pairs: the memory-over-time chart.
  // Thinned to every other point when full, so a long run keeps its whole span.
  std::vector<double> timeline;
  size_t timeline_stride = 1;
  size_t timeline_skipped = 0;

  // GC accounting.
  double scavenges = 0;
  double mark_compacts = 0;
  double peak_after_gc = 0;
  int64_t peak_after_gc_us = 0;
  double peak_after_mc = 0;  // max used_heap_size right after a mark-compact
  int64_t peak_after_mc_us = 0;
  double peak_before_gc = 0;
  double peak_external = 0;
  double external_at_peak = 0;  // external memory when peak_after_gc was set

  // Peak sampling.
  bool sampling = false;
  uint64_t sample_interval = 0;
  int sample_depth = 0;
  bool interrupt_pending = false;
  bool capture_pending = false;
  bool capturing = false;
  double pending_used = 0;
  int64_t pending_us = 0;
  bool sample_on_minor = false;
  bool pending_major = false;
  double pending_gc_count = 0;
  std::string peak_json;

  // Set by the environment cleanup hook while an interrupt is still queued:
  // the interrupt then frees the State instead of touching the isolate.
  bool dead = false;
};

// ---------------------------------------------------------------------------
// GC callbacks

static void OnGcPrologue(Isolate* isolate, GCType type, GCCallbackFlags,
                         void* data) {
  State* s = static_cast<State*>(data);
  if ((type & (kMinorGcMask | kMajorGcMask)) == 0) return;
  HeapStatistics hs;
  isolate->GetHeapStatistics(&hs);
  double used = static_cast<double>(hs.used_heap_size());
  if (used > s->peak_before_gc) s->peak_before_gc = used;
}

static void OnInterrupt(Isolate* isolate, void* data);

static constexpr size_t kTimelineMaxPoints = 10000;

static void RecordTimeline(State* s, int64_t now, double used) {
  if (++s->timeline_skipped < s->timeline_stride) return;
  s->timeline_skipped = 0;
  s->timeline.push_back(static_cast<double>(now));
  s->timeline.push_back(used);
  if (s->timeline.size() >= 2 * kTimelineMaxPoints) {
    size_t kept = 0;
    for (size_t i = 0; i < s->timeline.size(); i += 4) {
      s->timeline[kept++] = s->timeline[i];
      s->timeline[kept++] = s->timeline[i + 1];
    }
    s->timeline.resize(kept);
    s->timeline_stride *= 2;
  }
}

static void OnGcEpilogue(Isolate* isolate, GCType type, GCCallbackFlags,
                         void* data) {
  State* s = static_cast<State*>(data);
  bool minor = (type & kMinorGcMask) != 0;
  bool major = (type & kMajorGcMask) != 0;
  if (!minor && !major) return;
  if (minor) s->scavenges++;
  if (major) s->mark_compacts++;

  HeapStatistics hs;
  isolate->GetHeapStatistics(&hs);
  double used = static_cast<double>(hs.used_heap_size());
  double external = static_cast<double>(hs.external_memory());
  int64_t now = MonotonicUs() - s->start_us;

  if (external > s->peak_external) s->peak_external = external;
  RecordTimeline(s, now, used);
  bool new_peak_any = used > s->peak_after_gc;
  bool new_peak_major = major && used > s->peak_after_mc;
  if (new_peak_any) {
    s->peak_after_gc = used;
    s->peak_after_gc_us = now;
    s->external_at_peak = external;
  }
  if (new_peak_major) {
    s->peak_after_mc = used;
    s->peak_after_mc_us = now;
  }
  if (s->sampling && !s->capturing &&
      (s->sample_on_minor ? new_peak_any : new_peak_major)) {
    // Never touch the profiler from inside the GC: ask for an interrupt,
    // which V8 runs on this thread at the next stack check in JS (function
    // entry or loop back-edge). If no JS runs again, peakSampleJson()
    // captures the pending request itself.
    s->capture_pending = true;
    s->pending_used = used;
    s->pending_us = now;
    s->pending_major = major;
    s->pending_gc_count = s->scavenges + s->mark_compacts;
    if (!s->interrupt_pending) {
      s->interrupt_pending = true;
      isolate->RequestInterrupt(OnInterrupt, s);
    }
  }
}

static void InstallCallbacks(State* s) {
  if (s->callbacks_installed) return;
  s->isolate->AddGCPrologueCallback(OnGcPrologue, s, v8::kGCTypeAll);
  s->isolate->AddGCEpilogueCallback(OnGcEpilogue, s, v8::kGCTypeAll);
  s->callbacks_installed = true;
}

static void RemoveCallbacks(State* s) {
  if (!s->callbacks_installed) return;
  s->isolate->RemoveGCPrologueCallback(OnGcPrologue, s);
  s->isolate->RemoveGCEpilogueCallback(OnGcEpilogue, s);
  s->callbacks_installed = false;
}

// ---------------------------------------------------------------------------
// Peak sampling: serialize v8::AllocationProfile into native memory.

static void AppendJsonString(std::string* out, const char* p, size_t n) {
  out->push_back('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

static void AppendV8String(std::string* out, Isolate* isolate,
                           Local<String> str) {
  if (str.IsEmpty()) {
    out->append("\"\"");
    return;
  }
  String::Utf8Value utf8(isolate, str);
  if (*utf8 == nullptr) {
    out->append("\"\"");
    return;
  }
  AppendJsonString(out, *utf8, static_cast<size_t>(utf8.length()));
}

static void AppendNum(std::string* out, double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", v);
  out->append(buf);
}

static void AppendNode(std::string* out, Isolate* isolate,
                       const v8::AllocationProfile::Node* node, int depth) {
  out->append("{\"name\":");
  AppendV8String(out, isolate, node->name);
  out->append(",\"url\":");
  AppendV8String(out, isolate, node->script_name);
  out->append(",\"scriptId\":");
  AppendNum(out, node->script_id);
  out->append(",\"line\":");
  AppendNum(out, node->line_number);
  out->append(",\"column\":");
  AppendNum(out, node->column_number);
  double self_size = 0, self_count = 0;
  out->append(",\"allocations\":[");
  bool first = true;
  for (const auto& a : node->allocations) {
    if (!first) out->push_back(',');
    first = false;
    out->append("{\"size\":");
    AppendNum(out, static_cast<double>(a.size));
    out->append(",\"count\":");
    AppendNum(out, a.count);
    out->push_back('}');
    self_size += static_cast<double>(a.size) * a.count;
    self_count += a.count;
  }
  out->append("],\"selfSize\":");
  AppendNum(out, self_size);
  out->append(",\"selfCount\":");
  AppendNum(out, self_count);
  out->append(",\"children\":[");
  // Depth is bounded by the sampling stack depth (<= 1024 enforced below),
  // so plain recursion is fine.
  first = true;
  for (const auto* child : node->children) {
    if (!first) out->push_back(',');
    first = false;
    AppendNode(out, isolate, child, depth + 1);
  }
  out->append("]}");
}

static void CapturePeakSample(State* s) {
  if (!s->sampling || !s->capture_pending || s->capturing) return;
  s->capturing = true;
  s->capture_pending = false;
  Isolate* isolate = s->isolate;
  HandleScope scope(isolate);
  v8::AllocationProfile* profile =
      isolate->GetHeapProfiler()->GetAllocationProfile();
  if (profile != nullptr) {
    std::string json;
    json.reserve(s->peak_json.size() + 4096);
    json.append("{\"sampleInterval\":");
    AppendNum(&json, static_cast<double>(s->sample_interval));
    json.append(",\"usedAfterGc\":");
    AppendNum(&json, s->pending_used);
    json.append(",\"peakTimeUs\":");
    AppendNum(&json, static_cast<double>(s->pending_us));
    json.append(",\"captureTimeUs\":");
    AppendNum(&json, static_cast<double>(MonotonicUs() - s->start_us));
    json.append(",\"gcType\":");
    json.append(s->pending_major ? "\"major\"" : "\"minor\"");
    json.append(",\"gcCount\":");
    AppendNum(&json, s->pending_gc_count);
    json.append(",\"head\":");
    AppendNode(&json, isolate, profile->GetRootNode(), 0);
    json.push_back('}');
    s->peak_json.swap(json);
    delete profile;
  }
  s->capturing = false;
}

static void OnInterrupt(Isolate* isolate, void* data) {
  State* s = static_cast<State*>(data);
  s->interrupt_pending = false;
  if (s->dead) {
    delete s;
    return;
  }
  CapturePeakSample(s);
}

// ---------------------------------------------------------------------------
// Snapshot writer: plain stdio into path.tmp-<pid>, fsync, rename.

class FileStream final : public v8::OutputStream {
 public:
  explicit FileStream(FILE* f) : f_(f) {}
  void EndOfStream() override {}
  int GetChunkSize() override { return 256 * 1024; }
  WriteResult WriteAsciiChunk(char* data, int size) override {
    if (size <= 0) return kContinue;
    size_t n = fwrite(data, 1, static_cast<size_t>(size), f_);
    if (n != static_cast<size_t>(size)) {
      error_ = errno != 0 ? errno : EIO;
      return kAbort;
    }
    bytes_ += n;
    return kContinue;
  }
  int error() const { return error_; }
  double bytes() const { return bytes_; }

 private:
  FILE* f_;
  int error_ = 0;
  double bytes_ = 0;
};

static void ThrowErrno(Isolate* isolate, const char* what,
                       const std::string& path, int err) {
  std::string msg = std::string("heapscope: ") + what + " '" + path +
                    "': " + strerror(err);
  isolate->ThrowException(v8::Exception::Error(
      String::NewFromUtf8(isolate, msg.c_str(), NewStringType::kNormal)
          .ToLocalChecked()));
}

static void ThrowMessage(Isolate* isolate, const char* msg) {
  isolate->ThrowException(v8::Exception::TypeError(
      String::NewFromUtf8(isolate, msg, NewStringType::kNormal)
          .ToLocalChecked()));
}

static State* GetState(const FunctionCallbackInfo<Value>& info) {
  return static_cast<State*>(ExternalValue(info.Data()));
}

// ---------------------------------------------------------------------------
// JS functions

static void StartTracking(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  bool track_allocations = true;
  if (info.Length() > 0 && !info[0]->IsUndefined()) {
    track_allocations = info[0]->BooleanValue(s->isolate);
  }
  if (!s->callbacks_installed) {
    s->start_us = MonotonicUs();
    InstallCallbacks(s);
  }
  if (track_allocations && !s->tracking_allocations) {
    s->isolate->GetHeapProfiler()->StartTrackingHeapObjects(true);
    s->tracking_allocations = true;
    {
      // GetHeapStats gives ids to any object that has none yet and returns the last
      // id handed out: every object made from here on gets a larger one.
      DiscardStream discard;
      s->first_tracked_id = static_cast<double>(
          s->isolate->GetHeapProfiler()->GetHeapStats(&discard)) + 1;
    }
  }
}

static void StopTracking(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  RemoveCallbacks(s);
  if (s->tracking_allocations) {
    s->isolate->GetHeapProfiler()->StopTrackingHeapObjects();
    s->tracking_allocations = false;
  }
}

static void Set(Isolate* isolate, Local<Context> ctx, Local<Object> obj,
                const char* key, Local<Value> value) {
  obj->Set(ctx,
           String::NewFromUtf8(isolate, key, NewStringType::kInternalized)
               .ToLocalChecked(),
           value)
      .Check();
}

static void GcStats(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  Isolate* isolate = s->isolate;
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<Object> o = Object::New(isolate);
  auto num = [&](const char* k, double v) {
    Set(isolate, ctx, o, k, Number::New(isolate, v));
  };
  int64_t now = s->start_us != 0 ? MonotonicUs() - s->start_us : 0;
  num("scavenges", s->scavenges);
  num("markCompacts", s->mark_compacts);
  num("peakLiveAfterGc", s->peak_after_gc);
  num("peakLiveAfterGcTimeUs", static_cast<double>(s->peak_after_gc_us));
  num("peakLiveAfterMarkCompact", s->peak_after_mc);
  num("peakLiveAfterMarkCompactTimeUs",
      static_cast<double>(s->peak_after_mc_us));
  num("peakUsedBeforeGc", s->peak_before_gc);
  num("peakExternal", s->peak_external);
  num("externalAtPeak", s->external_at_peak);
  num("nowUs", static_cast<double>(now));
  num("firstTrackedObjectId", s->first_tracked_id);
  Set(isolate, ctx, o, "trackingAllocations",
      v8::Boolean::New(isolate, s->tracking_allocations));
  info.GetReturnValue().Set(o);
}

// The heap used after each GC since tracking began: [µs, bytes, µs, bytes, ...].
static void GcTimeline(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  Isolate* isolate = s->isolate;
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<v8::Array> out = v8::Array::New(isolate, static_cast<int>(s->timeline.size()));
  for (size_t i = 0; i < s->timeline.size(); i++) {
    out->Set(ctx, static_cast<uint32_t>(i), Number::New(isolate, s->timeline[i])).Check();
  }
  info.GetReturnValue().Set(out);
}

// The heap-object id V8 gave a value (the `id` of its node in snapshots), or 0 when it
// has none yet: ids are handed out by snapshots and GetHeapStats.
static void ObjectId(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  if (info.Length() < 1) {
    info.GetReturnValue().Set(0);
    return;
  }
  info.GetReturnValue().Set(Number::New(
      s->isolate,
      static_cast<double>(s->isolate->GetHeapProfiler()->GetObjectId(info[0]))));
}

static void WriteSnapshot(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  Isolate* isolate = s->isolate;
  if (info.Length() < 1 || !info[0]->IsString()) {
    ThrowMessage(isolate, "heapscope: writeSnapshot(path) needs a string path");
    return;
  }
  String::Utf8Value path_utf8(isolate, info[0]);
  std::string path(*path_utf8, static_cast<size_t>(path_utf8.length()));
  std::string tmp = path + ".tmp-" + std::to_string(getpid());

  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    ThrowErrno(isolate, "cannot open", tmp, errno);
    return;
  }
  static constexpr size_t kBufSize = 4 * 1024 * 1024;
  char* buf = static_cast<char*>(malloc(kBufSize));
  if (buf != nullptr) setvbuf(f, buf, _IOFBF, kBufSize);

  HeapProfiler* profiler = isolate->GetHeapProfiler();
  const HeapSnapshot* snap = profiler->TakeHeapSnapshot();
  int err = 0;
  const char* what = "cannot write";
  if (snap == nullptr) {
    err = ENOMEM;
    what = "V8 could not take a heap snapshot for";
  } else {
    FileStream stream(f);
    errno = 0;
    snap->Serialize(&stream, HeapSnapshot::kJSON);
    err = stream.error();
    const_cast<HeapSnapshot*>(snap)->Delete();
  }
  if (err == 0 && fflush(f) != 0) err = errno;
  if (err == 0 && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) {
    err = errno;
  }
  if (fclose(f) != 0 && err == 0) err = errno;
  free(buf);
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    what = "cannot rename snapshot to";
    unlink(tmp.c_str());
    ThrowErrno(isolate, what, path, err);
    return;
  }
  if (err != 0) {
    unlink(tmp.c_str());
    ThrowErrno(isolate, what, tmp, err);
  }
}

static void StartPeakSampling(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  Isolate* isolate = s->isolate;
  Local<Context> ctx = isolate->GetCurrentContext();
  double interval = 32768;
  double depth = 64;
  if (info.Length() > 0 && info[0]->IsNumber()) {
    interval = info[0]->NumberValue(ctx).FromMaybe(interval);
  }
  if (info.Length() > 1 && info[1]->IsNumber()) {
    depth = info[1]->NumberValue(ctx).FromMaybe(depth);
  }
  bool on_minor = info.Length() > 2 && info[2]->BooleanValue(isolate);
  if (!(interval >= 1) || !(depth >= 1) || depth > 1024) {
    ThrowMessage(isolate,
                 "heapscope: startPeakSampling(intervalBytes >= 1, "
                 "stackDepth 1..1024)");
    return;
  }
  if (s->sampling) return;
  if (!s->callbacks_installed) {
    s->start_us = MonotonicUs();
    InstallCallbacks(s);
  }
  s->sample_on_minor = on_minor;
  s->sample_interval = static_cast<uint64_t>(interval);
  s->sample_depth = static_cast<int>(depth);
  // kSamplingNoFlags: samples of collected objects are dropped, so the
  // profile describes live objects.
  bool ok = isolate->GetHeapProfiler()->StartSamplingHeapProfiler(
      s->sample_interval, s->sample_depth, HeapProfiler::kSamplingNoFlags);
  if (!ok) {
    ThrowMessage(isolate,
                 "heapscope: a sampling heap profiler is already running in "
                 "this isolate");
    return;
  }
  s->sampling = true;
}

static void StopPeakSampling(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  if (!s->sampling) return;
  CapturePeakSample(s);
  s->isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
  s->sampling = false;
  s->capture_pending = false;
}

static void PeakSampleJson(const FunctionCallbackInfo<Value>& info) {
  State* s = GetState(info);
  CapturePeakSample(s);  // a peak whose interrupt never ran (no JS since)
  Local<String> str;
  if (!String::NewFromUtf8(s->isolate, s->peak_json.data(),
                           NewStringType::kNormal,
                           static_cast<int>(s->peak_json.size()))
           .ToLocal(&str)) {
    return;  // exception pending (string too long)
  }
  info.GetReturnValue().Set(str);
}

// ---------------------------------------------------------------------------
// Lifetime

static void Cleanup(void* arg) {
  State* s = static_cast<State*>(arg);
  RemoveCallbacks(s);
  HeapProfiler* profiler = s->isolate->GetHeapProfiler();
  if (s->sampling) {
    profiler->StopSamplingHeapProfiler();
    s->sampling = false;
  }
  if (s->tracking_allocations) {
    profiler->StopTrackingHeapObjects();
    s->tracking_allocations = false;
  }
  if (s->interrupt_pending) {
    s->dead = true;  // OnInterrupt frees it if V8 still runs it
    return;
  }
  delete s;
}

static void Export(Isolate* isolate, Local<Context> ctx, Local<Object> exports,
                   State* s, const char* name, v8::FunctionCallback fn) {
  Local<External> data = NewExternal(isolate, s);
  Local<Function> f = FunctionTemplate::New(isolate, fn, data)
                          ->GetFunction(ctx)
                          .ToLocalChecked();
  Local<String> key =
      String::NewFromUtf8(isolate, name, NewStringType::kInternalized)
          .ToLocalChecked();
  f->SetName(key);
  exports->Set(ctx, key, f).Check();
}

}  // namespace heapscope

NODE_MODULE_INIT(/* exports, module, context */) {
  using namespace heapscope;
  Isolate* isolate = Isolate::GetCurrent();  // Context::GetIsolate is gone in V8 14
  State* s = new State();
  s->isolate = isolate;
  node::AddEnvironmentCleanupHook(isolate, Cleanup, s);
  Export(isolate, context, exports, s, "startTracking", StartTracking);
  Export(isolate, context, exports, s, "stopTracking", StopTracking);
  Export(isolate, context, exports, s, "gcStats", GcStats);
  Export(isolate, context, exports, s, "writeSnapshot", WriteSnapshot);
  Export(isolate, context, exports, s, "startPeakSampling", StartPeakSampling);
  Export(isolate, context, exports, s, "stopPeakSampling", StopPeakSampling);
  Export(isolate, context, exports, s, "objectId", ObjectId);
  Export(isolate, context, exports, s, "gcTimeline", GcTimeline);
  Export(isolate, context, exports, s, "peakSampleJson", PeakSampleJson);
  ExportSnapshotFunctions(isolate, context, exports);
  Set(isolate, context, exports, "version",
      String::NewFromUtf8(isolate, "1", NewStringType::kNormal)
          .ToLocalChecked());
}
