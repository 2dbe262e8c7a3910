// The native helper's snapshot functions as JavaScript sees them: arguments
// checked (every array long enough for the counts given, so that the work reads
// nothing out of bounds), then the work of numbers.cc, ownership.cc and
// dominators.cc, here or on libuv's thread pool (tasks.cc).
//
// Exports:
//   parseNumberRange(fd, start, end, into: Uint32Array) -> count, or -1 to say
//     "use the general reader"
//   reverseEdges(...graph, first, from) -> false when the graph is not valid
//   dominators(...graph, root, first, from, num, vertex, parent, semi, ancestor)
//     -> nodes the root reaches, -1 when the graph is not valid, -2 without memory
//   retainedSizes, scanLiterals, spreadOwned, essentialEdges, shallowSizes: see
//     their bindings below
//   shallowSizes(..., callback), dominatorTree, parseFileRange: the same work on
//     libuv's thread pool, the answer given to a callback (tasks.cc)
// where graph = edges, firstEdge, nodeCount, edgeFieldCount, toNode, shift,
// inverse, essential (Uint32Array or null): see dominators.h.

#include "snapshot.h"

#include "dominators.h"
#include "literals.h"
#include "numbers.h"
#include "ownership.h"
#include "scratch.h"
#include "tasks.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace heapscope {

using v8::FunctionCallbackInfo;
using v8::Local;
using v8::Value;

namespace {

// Memory a task on another thread uses: kept alive until it is done.
using Keep = std::vector<std::shared_ptr<v8::BackingStore>>;

// A typed array argument's elements, or null when `value` is not one of type T.
template <typename T>
T* ElementsOf(Local<Value> value, bool is, size_t* length, Keep* keep = nullptr) {
  if (!is) return nullptr;
  Local<v8::TypedArray> array = value.As<v8::TypedArray>();
  *length = array->Length();
  std::shared_ptr<v8::BackingStore> store = array->Buffer()->GetBackingStore();
  if (keep != nullptr) keep->push_back(store);
  // An empty array may have no backing memory: any non-null pointer will do.
  static T none;
  if (store->Data() == nullptr) return &none;
  return reinterpret_cast<T*>(static_cast<uint8_t*>(store->Data()) + array->ByteOffset());
}

uint32_t* Elements(Local<Value> value, size_t* length, Keep* keep = nullptr) {
  return ElementsOf<uint32_t>(value, value->IsUint32Array(), length, keep);
}

uint8_t* Bytes(Local<Value> value, size_t* length, Keep* keep = nullptr) {
  return ElementsOf<uint8_t>(value, value->IsUint8Array(), length, keep);
}

double* Doubles(Local<Value> value, size_t* length, Keep* keep = nullptr) {
  return ElementsOf<double>(value, value->IsFloat64Array(), length, keep);
}

// Kinds from an Int32Array of 7, in the order of the struct.
bool KindsArg(Local<Value> value, Kinds* k) {
  size_t length = 0;
  int32_t* v = ElementsOf<int32_t>(value, value->IsInt32Array(), &length);
  if (v == nullptr || length != 7) return false;
  *k = Kinds{v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
  return true;
}

bool Uint32Arg(Local<Value> value, uint32_t* out) {
  if (!value->IsUint32()) return false;
  *out = value.As<v8::Uint32>()->Value();
  return true;
}

void ThrowTypeError(v8::Isolate* isolate, const char* message) {
  isolate->ThrowException(v8::Exception::TypeError(
      v8::String::NewFromUtf8(isolate, message).ToLocalChecked()));
}

// parseNumberRange(fd, start, end, into: Uint32Array) -> count, or -1
void ParseNumberRange(const FunctionCallbackInfo<Value>& info) {
  size_t capacity = 0;
  uint32_t* into = Elements(info[3], &capacity);
  if (!info[0]->IsInt32() || !info[1]->IsNumber() || !info[2]->IsNumber() || into == nullptr) {
    return ThrowTypeError(info.GetIsolate(), "parseNumberRange(fd, start, end, into: Uint32Array)");
  }
  int fd = info[0].As<v8::Int32>()->Value();
  auto start = static_cast<int64_t>(info[1].As<v8::Number>()->Value());
  auto end = static_cast<int64_t>(info[2].As<v8::Number>()->Value());
  info.GetReturnValue().Set(static_cast<double>(ParseRange(fd, start, end, into, capacity)));
}

constexpr int kGraphArgs = 8;

// The graph in info[0 .. 8): false (an exception thrown) when an argument is
// wrong or an array is too short for the counts given.
bool GraphArgs(const FunctionCallbackInfo<Value>& info, EdgeGraph* g, Keep* keep = nullptr) {
  size_t firstLength = 0;
  size_t essentialLength = 0;
  uint32_t* edges = Elements(info[0], &g->edgeLength, keep);
  uint32_t* firstEdge = Elements(info[1], &firstLength, keep);
  bool ok = edges != nullptr && firstEdge != nullptr && Uint32Arg(info[2], &g->nodeCount) &&
            Uint32Arg(info[3], &g->edgeFieldCount) && Uint32Arg(info[4], &g->toNode) &&
            Uint32Arg(info[5], &g->shift) && Uint32Arg(info[6], &g->inverse);
  g->edges = edges;
  g->firstEdge = firstEdge;
  g->essential = nullptr;
  if (ok && !info[7]->IsNull()) {
    g->essential = Elements(info[7], &essentialLength, keep);
    ok = g->essential != nullptr &&
         essentialLength * 32 >= g->edgeLength / std::max<uint32_t>(g->edgeFieldCount, 1);
  }
  ok = ok && g->nodeCount > 0 && firstLength > g->nodeCount && g->shift < 32 && ValidEdges(*g);
  if (!ok) ThrowTypeError(info.GetIsolate(), "heapscope native: not a valid edge graph");
  return ok;
}

void ReverseEdgesJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  if (!GraphArgs(info, &g)) return;
  size_t firstLength = 0;
  size_t fromLength = 0;
  uint32_t* first = Elements(info[kGraphArgs], &firstLength);
  uint32_t* from = Elements(info[kGraphArgs + 1], &fromLength);
  if (first == nullptr || from == nullptr || firstLength <= g.nodeCount) {
    return ThrowTypeError(info.GetIsolate(), "reverseEdges: first, from");
  }
  info.GetReturnValue().Set(ReverseEdges(g, first, from, fromLength));
}

void DominatorsJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  if (!GraphArgs(info, &g)) return;
  uint32_t root = 0;
  size_t firstLength = 0;
  size_t fromLength = 0;
  const uint32_t* first = Elements(info[kGraphArgs + 1], &firstLength);
  uint32_t* from = Elements(info[kGraphArgs + 2], &fromLength);
  uint32_t* arrays[5];
  bool ok = Uint32Arg(info[kGraphArgs], &root) && first != nullptr && from != nullptr &&
            firstLength > g.nodeCount;
  for (int i = 0; i < 5 && ok; i++) {
    size_t length = 0;
    arrays[i] = Elements(info[kGraphArgs + 3 + i], &length);
    ok = arrays[i] != nullptr && length > g.nodeCount;
  }
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(),
                          "dominators: root, first, from, num, vertex, parent, semi, ancestor");
  }
  DominatorArrays a{arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]};
  int64_t reached = Dominators(g, root, first, from, fromLength, a);
  info.GetReturnValue().Set(static_cast<double>(reached));
}

// info[i], info[i + 1]: the nodes (Uint32Array) and the node field count, checked
// against the graph's node count and the offsets that will be read.
bool NodeArgs(const FunctionCallbackInfo<Value>& info, int i, const EdgeGraph& g,
              NodeTable* t, std::initializer_list<uint32_t> offsets, Keep* keep = nullptr) {
  size_t length = 0;
  t->nodes = Elements(info[i], &length, keep);
  if (t->nodes == nullptr || !Uint32Arg(info[i + 1], &t->nodeFieldCount)) return false;
  for (uint32_t offset : offsets) {
    if (offset >= t->nodeFieldCount) return false;
  }
  return length >= static_cast<size_t>(g.nodeCount) * t->nodeFieldCount;
}

// retainedSizes(dominator, order, self, retained): retainedSizes() of
// dominators.ts into `retained` (all nodeCount long; order as the tree's).
void RetainedSizesJs(const FunctionCallbackInfo<Value>& info) {
  size_t dominatorLength = 0;
  size_t orderLength = 0;
  size_t selfLength = 0;
  size_t retainedLength = 0;
  const uint32_t* dominator = Elements(info[0], &dominatorLength);
  const uint32_t* order = Elements(info[1], &orderLength);
  const double* self = Doubles(info[2], &selfLength);
  double* retained = Doubles(info[3], &retainedLength);
  const size_t n = dominatorLength;
  bool ok = dominator != nullptr && order != nullptr && self != nullptr && retained != nullptr &&
            n > 0 && n < UINT32_MAX && orderLength == n && selfLength >= n && retainedLength >= n;
  for (size_t k = 0; ok && k < n; k++) ok = dominator[k] < n && order[k] < n;
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(), "retainedSizes(dominator, order, self, retained)");
  }
  RetainedSizes(dominator, order, static_cast<uint32_t>(n), self, retained);
}

// scanLiterals(buf, i, end, bytes, length, ends, flags, count, out: Float64Array(3))
// -> where it stopped; out = [length, count, stoppedAfter (1 or 0)] (see literals.h)
void ScanLiteralsJs(const FunctionCallbackInfo<Value>& info) {
  size_t bufLength = 0;
  size_t bytesLength = 0;
  size_t endsLength = 0;
  size_t flagsLength = 0;
  size_t outLength = 0;
  const uint8_t* buf = Bytes(info[0], &bufLength);
  uint8_t* bytes = Bytes(info[3], &bytesLength);
  uint32_t* ends = Elements(info[5], &endsLength);
  uint8_t* flags = Bytes(info[6], &flagsLength);
  double* out = Doubles(info[8], &outLength);
  uint32_t i = 0;
  uint32_t end = 0;
  uint32_t length = 0;
  uint32_t count = 0;
  bool ok = buf != nullptr && bytes != nullptr && ends != nullptr && flags != nullptr &&
            out != nullptr && outLength >= 3 && Uint32Arg(info[1], &i) &&
            Uint32Arg(info[2], &end) && Uint32Arg(info[4], &length) &&
            Uint32Arg(info[7], &count) && i <= end && end <= bufLength &&
            length <= bytesLength && count <= endsLength && endsLength <= flagsLength;
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(),
                          "scanLiterals(buf, i, end, bytes, length, ends, flags, count, out)");
  }
  LiteralTable t{bytes, bytesLength, ends, flags, endsLength, length, count, false};
  const size_t stop = ScanLiterals(buf, i, end, t);
  out[0] = static_cast<double>(t.length);
  out[1] = static_cast<double>(t.count);
  out[2] = t.stoppedAfter ? 1 : 0;
  info.GetReturnValue().Set(static_cast<double>(stop));
}

// spreadOwned(...graph, edgeType, kinds, seeds, owned: Uint8Array) -> false when an
// edge's target or a seed is not a node.
void SpreadOwnedJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  if (!GraphArgs(info, &g)) return;
  const int i = kGraphArgs;
  uint32_t edgeType = 0;
  Kinds k;
  size_t seedCount = 0;
  size_t ownedLength = 0;
  const uint32_t* seeds = Elements(info[i + 2], &seedCount);
  uint8_t* owned = Bytes(info[i + 3], &ownedLength);
  if (!Uint32Arg(info[i], &edgeType) || edgeType >= g.edgeFieldCount || !KindsArg(info[i + 1], &k) ||
      seeds == nullptr || owned == nullptr || ownedLength < g.nodeCount) {
    return ThrowTypeError(info.GetIsolate(), "spreadOwned: edgeType, kinds, seeds, owned");
  }
  info.GetReturnValue().Set(SpreadOwned(g, edgeType, k, seeds, seedCount, owned));
}

// essentialEdges(...graph, nodes, nodeFieldCount, idOffset, edgeType, edgeName, kinds,
//                owned, ephemeronNames, ephemeronTables, bits)
void EssentialEdgesJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  if (!GraphArgs(info, &g)) return;
  const int i = kGraphArgs;
  NodeTable t;
  uint32_t idOffset = 0;
  uint32_t edgeType = 0;
  uint32_t edgeName = 0;
  Kinds k;
  size_t ownedLength = 0;
  size_t namesLength = 0;
  size_t tablesLength = 0;
  size_t bitsLength = 0;
  const uint8_t* owned = Bytes(info[i + 6], &ownedLength);
  const uint32_t* names = Elements(info[i + 7], &namesLength);
  const uint32_t* tables = Elements(info[i + 8], &tablesLength);
  uint32_t* bits = Elements(info[i + 9], &bitsLength);
  bool ok = Uint32Arg(info[i + 2], &idOffset) && NodeArgs(info, i, g, &t, {idOffset}) &&
            Uint32Arg(info[i + 3], &edgeType) && Uint32Arg(info[i + 4], &edgeName) &&
            edgeType < g.edgeFieldCount && edgeName < g.edgeFieldCount &&
            KindsArg(info[i + 5], &k) && owned != nullptr && ownedLength >= g.nodeCount &&
            names != nullptr && tables != nullptr && namesLength == tablesLength &&
            std::is_sorted(names, names + namesLength) && bits != nullptr &&
            bitsLength * 32 >= g.edgeLength / g.edgeFieldCount;
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(),
                          "essentialEdges: nodes, nodeFieldCount, idOffset, edgeType, edgeName, "
                          "kinds, owned, ephemeronNames, ephemeronTables, bits");
  }
  EssentialEdges(g, t, idOffset, edgeType, edgeName, k, owned,
                 EphemeronTables{names, tables, namesLength}, bits);
}

// shallowSizes(...graph, nodes, nodeFieldCount, typeOffset, nameOffset, sizeOffset,
//              edgeType, kinds, externalString, sizes, owners[, callback]) -> false
// when a total would not fit: sizes a Uint32Array (32 bits) or a Float64Array
// (never false), owners a Uint32Array of nodeCount to work in or null (native
// memory, freed at once). With a callback, on the thread pool, and the callback
// gets that answer (as 1 or 0).
void ShallowSizesJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  Keep keep;
  if (!GraphArgs(info, &g, &keep)) return;
  const int i = kGraphArgs;
  NodeTable t;
  uint32_t typeOffset = 0;
  uint32_t nameOffset = 0;
  uint32_t sizeOffset = 0;
  uint32_t edgeType = 0;
  Kinds k;
  size_t sizesLength = 0;
  size_t ownersLength = 0;
  uint32_t* narrow = Elements(info[i + 8], &sizesLength, &keep);
  double* wide = Doubles(info[i + 8], &sizesLength, &keep);
  uint32_t* owners = info[i + 9]->IsNull() ? nullptr : Elements(info[i + 9], &ownersLength, &keep);
  bool ok = Uint32Arg(info[i + 2], &typeOffset) && Uint32Arg(info[i + 3], &nameOffset) &&
            Uint32Arg(info[i + 4], &sizeOffset) &&
            NodeArgs(info, i, g, &t, {typeOffset, nameOffset, sizeOffset}, &keep) &&
            Uint32Arg(info[i + 5], &edgeType) && edgeType < g.edgeFieldCount &&
            KindsArg(info[i + 6], &k) && info[i + 7]->IsInt32() &&
            (narrow != nullptr || wide != nullptr) && sizesLength >= g.nodeCount &&
            (info[i + 9]->IsNull() || (owners != nullptr && ownersLength >= g.nodeCount)) &&
            (info.Length() <= i + 10 || info[i + 10]->IsFunction());
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(),
                          "shallowSizes: nodes, nodeFieldCount, typeOffset, nameOffset, "
                          "sizeOffset, edgeType, kinds, externalString, sizes, owners[, callback]");
  }
  const int64_t externalString = info[i + 7].As<v8::Int32>()->Value();
  auto work = [=]() {
    Scratch<uint32_t> room(owners == nullptr ? g.nodeCount : 0);
    uint32_t* working = owners == nullptr ? room.data() : owners;
    if (working == nullptr) return false;  // no memory: the JavaScript twin runs instead
    return wide != nullptr ? ShallowSizes(g, t, typeOffset, nameOffset, sizeOffset, edgeType, k,
                                          externalString, wide, working)
                           : ShallowSizes(g, t, typeOffset, nameOffset, sizeOffset, edgeType, k,
                                          externalString, narrow, working);
  };
  if (info.Length() <= i + 10) return info.GetReturnValue().Set(work());
  v8::Isolate* isolate = info.GetIsolate();
  QueueTask(isolate, isolate->GetCurrentContext(), info[i + 10].As<v8::Function>(),
            std::move(keep), [=]() {
              TaskResult r;
              r.values[0] = work() ? 1 : 0;
              r.count = 1;
              return r;
            });
}

// dominatorTree(...graph, root, first, from, vertex, ancestor, callback[,
//               children]): on the thread pool, the counting edges reversed into
// first/from, then the dominators (as dominators(), with its other working
// arrays in native memory, freed at once); with `children`, also the tree's
// children into first/children (as dominatorChildren(); `children` may be a part
// of `from`). callback(reached), reached = -1 for a graph that is not valid, -2
// when the working memory could not be had.
void DominatorTreeJs(const FunctionCallbackInfo<Value>& info) {
  EdgeGraph g;
  Keep keep;
  if (!GraphArgs(info, &g, &keep)) return;
  const int i = kGraphArgs;
  uint32_t root = 0;
  size_t firstLength = 0;
  size_t fromLength = 0;
  size_t vertexLength = 0;
  size_t ancestorLength = 0;
  uint32_t* first = Elements(info[i + 1], &firstLength, &keep);
  uint32_t* from = Elements(info[i + 2], &fromLength, &keep);
  uint32_t* vertex = Elements(info[i + 3], &vertexLength, &keep);
  uint32_t* ancestor = Elements(info[i + 4], &ancestorLength, &keep);
  bool ok = Uint32Arg(info[i], &root) && first != nullptr && firstLength > g.nodeCount &&
            from != nullptr && vertex != nullptr && vertexLength > g.nodeCount &&
            ancestor != nullptr && ancestorLength > g.nodeCount && info[i + 5]->IsFunction();
  // Optional: the children out.
  uint32_t* children = nullptr;
  if (ok && info.Length() > i + 6) {
    size_t childrenLength = 0;
    children = Elements(info[i + 6], &childrenLength, &keep);
    ok = children != nullptr && childrenLength + 1 >= g.nodeCount;
  }
  if (!ok) {
    return ThrowTypeError(info.GetIsolate(),
                          "dominatorTree: root, first, from, vertex, ancestor, callback"
                          "[, children]");
  }
  v8::Isolate* isolate = info.GetIsolate();
  QueueTask(isolate, isolate->GetCurrentContext(), info[i + 5].As<v8::Function>(),
            std::move(keep), [=]() {
              TaskResult r;
              r.count = 1;
              r.values[0] = -1;
              if (!ReverseEdges(g, first, from, fromLength)) return r;
              const size_t size = static_cast<size_t>(g.nodeCount) + 1;
              Scratch<uint32_t> num(size), parent(size), semi(size);
              if (!num.data() || !parent.data() || !semi.data()) {
                r.values[0] = -2;  // no memory
                return r;
              }
              DominatorArrays a{num.data(), vertex, parent.data(), semi.data(), ancestor};
              const int64_t reached = Dominators(g, root, first, from, fromLength, a);
              r.values[0] = static_cast<double>(reached);
              if (reached >= 0 && children != nullptr) {
                DominatorChildren(ancestor, g.nodeCount, root, first, children);
              }
              return r;
            });
}

// parseFileRange(path, start, end, into, rules: Float64Array | null,
//                indexNamed: Uint8Array | null, callback): on the thread pool,
// parseNumberRange over the file at `path`, then, with rules (edges: fieldCount,
// typeOffset, nameOffset, toOffset, typeCount, nodeFieldCount, nodesLength), the
// checks of summarizeEdges (heapsnapshot-edges.ts); callback(count, sound, maxName),
// count = -1 for "use the general reader".
void ParseFileRangeJs(const FunctionCallbackInfo<Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Keep keep;
  size_t capacity = 0;
  size_t rulesLength = 0;
  size_t namedLength = 0;
  uint32_t* into = Elements(info[3], &capacity, &keep);
  const double* rules = Doubles(info[4], &rulesLength, &keep);
  const uint8_t* named = Bytes(info[5], &namedLength, &keep);
  bool ok = info[0]->IsString() && info[1]->IsNumber() && info[2]->IsNumber() &&
            into != nullptr && info[6]->IsFunction() &&
            (info[4]->IsNull() || (rules != nullptr && rulesLength == 7 && named != nullptr &&
                                   namedLength >= rules[4]));
  if (!ok) {
    return ThrowTypeError(isolate,
                          "parseFileRange(path, start, end, into, rules, indexNamed, callback)");
  }
  v8::String::Utf8Value path(isolate, info[0]);
  std::string file(*path, path.length());
  auto start = static_cast<int64_t>(info[1].As<v8::Number>()->Value());
  auto end = static_cast<int64_t>(info[2].As<v8::Number>()->Value());
  std::vector<double> edgeRules(rules, rules + (rules ? 7 : 0));
  QueueTask(isolate, isolate->GetCurrentContext(), info[6].As<v8::Function>(), std::move(keep),
            [=]() {
              TaskResult r;
              r.count = 3;
              r.values[0] = -1;
              int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
              if (fd < 0) return r;
              int64_t count = ParseRange(fd, start, end, into, capacity);
              close(fd);
              r.values[0] = static_cast<double>(count);
              if (count >= 0 && !edgeRules.empty()) {
                EdgeCheck check = CheckEdges(into, static_cast<size_t>(count), edgeRules, named);
                r.values[1] = check.sound ? 1 : 0;
                r.values[2] = check.maxName;
              }
              return r;
            });
}

void Export(v8::Isolate* isolate, Local<v8::Context> ctx, Local<v8::Object> exports,
            const char* name, v8::FunctionCallback callback) {
  Local<v8::String> key =
      v8::String::NewFromUtf8(isolate, name, v8::NewStringType::kInternalized)
          .ToLocalChecked();
  Local<v8::Function> f =
      v8::FunctionTemplate::New(isolate, callback)->GetFunction(ctx).ToLocalChecked();
  f->SetName(key);
  exports->Set(ctx, key, f).Check();
}

}  // namespace

void ExportSnapshotFunctions(v8::Isolate* isolate, Local<v8::Context> ctx,
                             Local<v8::Object> exports) {
  Export(isolate, ctx, exports, "parseNumberRange", ParseNumberRange);
  Export(isolate, ctx, exports, "scanLiterals", ScanLiteralsJs);
  Export(isolate, ctx, exports, "reverseEdges", ReverseEdgesJs);
  Export(isolate, ctx, exports, "dominators", DominatorsJs);
  Export(isolate, ctx, exports, "spreadOwned", SpreadOwnedJs);
  Export(isolate, ctx, exports, "essentialEdges", EssentialEdgesJs);
  Export(isolate, ctx, exports, "shallowSizes", ShallowSizesJs);
  Export(isolate, ctx, exports, "dominatorTree", DominatorTreeJs);
  Export(isolate, ctx, exports, "retainedSizes", RetainedSizesJs);
  Export(isolate, ctx, exports, "parseFileRange", ParseFileRangeJs);
}

}  // namespace heapscope
