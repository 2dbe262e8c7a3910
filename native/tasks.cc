// A task on libuv's thread pool (uv_queue_work) whose result comes back through
// node::MakeCallback, which also runs the microtasks the callback queues (the
// promise it settles). Only for a thread whose event loop outlives its tasks:
// the JavaScript side uses it on the main thread only (a worker's loop is
// closed when the worker ends, with a task possibly still running).

#include "tasks.h"

#include <node.h>
#include <uv.h>

namespace heapscope {

namespace {

struct Task {
  uv_work_t request;
  v8::Isolate* isolate;
  v8::Global<v8::Context> context;
  v8::Global<v8::Function> callback;
  std::vector<std::shared_ptr<v8::BackingStore>> keep;
  std::function<TaskResult()> work;
  TaskResult result;
};

void Work(uv_work_t* request) {
  Task* task = static_cast<Task*>(request->data);
  task->result = task->work();
}

void AfterWork(uv_work_t* request, int /* status */) {
  Task* task = static_cast<Task*>(request->data);
  v8::Isolate* isolate = task->isolate;
  {
    v8::HandleScope handles(isolate);
    v8::Local<v8::Context> context = task->context.Get(isolate);
    v8::Context::Scope scope(context);
    v8::Local<v8::Value> argv[3];
    for (int i = 0; i < task->result.count; i++) {
      argv[i] = v8::Number::New(isolate, task->result.values[i]);
    }
    // The memory may go once the work is done, before the callback runs.
    task->keep.clear();
    node::MakeCallback(isolate, context->Global(), task->callback.Get(isolate),
                       task->result.count, argv, node::async_context{0, 0});
  }
  delete task;
}

}  // namespace

void QueueTask(v8::Isolate* isolate, v8::Local<v8::Context> context,
               v8::Local<v8::Function> callback,
               std::vector<std::shared_ptr<v8::BackingStore>> keep,
               std::function<TaskResult()> work) {
  Task* task = new Task();
  task->request.data = task;
  task->isolate = isolate;
  task->context.Reset(isolate, context);
  task->callback.Reset(isolate, callback);
  task->keep = std::move(keep);
  task->work = std::move(work);
  uv_queue_work(node::GetCurrentEventLoop(isolate), &task->request, Work, AfterWork);
}

}  // namespace heapscope
