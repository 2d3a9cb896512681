// RlbookStackFrames: rebuild stacked Atari observations from frames stored once.
//
// frames is the replay buffer's [capacity, height, width] uint8 variable,
// passed as its resource handle: the kernel reads the variable's own buffer
// under its lock, so no tensor aliasing it outlives the op and a later
// slice-assign never has to copy the whole variable (copy-on-write).
// frame_ids is [..., 4]: for each output stack, the slots of its four frames,
// oldest first, already wrapped into [0, capacity) and with episode starts
// applied. The output is [..., height, width, 4], frame k in channel k.
//
// Built by rlbook/frame_replay_op.py with the compiler flags TensorFlow's
// wheel reports; see docs/tfagents.md.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/resource_mgr.h"
#include "tensorflow/core/framework/resource_var.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace {

using tensorflow::DEVICE_CPU;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
using tensorflow::Var;
using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

constexpr int kStack = 4;

REGISTER_OP("RlbookStackFrames")
    .Input("frames: resource")
    .Input("frame_ids: int64")
    .Output("stacks: uint8")
    .SetShapeFn([](InferenceContext* c) -> absl::Status {
      ShapeHandle ids;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(1), 1, &ids));
      DimensionHandle stack;
      TF_RETURN_IF_ERROR(c->WithValue(c->Dim(ids, -1), kStack, &stack));
      ShapeHandle frame = c->UnknownShapeOfRank(2);
      const auto* handle_data = c->input_handle_shapes_and_types(0);
      if (handle_data != nullptr && handle_data->size() == 1) {
        ShapeHandle variable;
        TF_RETURN_IF_ERROR(c->WithRank((*handle_data)[0].shape, 3, &variable));
        TF_RETURN_IF_ERROR(c->Subshape(variable, 1, &frame));
      }
      ShapeHandle leading, out;
      TF_RETURN_IF_ERROR(c->Subshape(ids, 0, -1, &leading));
      TF_RETURN_IF_ERROR(c->Concatenate(leading, frame, &out));
      TF_RETURN_IF_ERROR(c->Concatenate(out, c->Vector(stack), &out));
      c->set_output(0, out);
      return absl::OkStatus();
    });

// One output stack, frame k into byte k of each pixel. Written as byte
// stores over contiguous pixels with no aliasing, GCC -O3 vectorises it into
// interleaving shuffles (punpck* on x86); the same loop as uint32
// widen-shift-or is about 2x slower, and byte order never matters here.
// On x86-64 Linux GCC also emits an AVX2 copy, picked at load time when the
// CPU has it (about 15% faster than the SSE2 baseline).
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define RLBOOK_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef RLBOOK_CLONES
#define RLBOOK_CLONES
#endif

RLBOOK_CLONES void InterleaveFour(const uint8_t* __restrict f0, const uint8_t* __restrict f1,
                    const uint8_t* __restrict f2, const uint8_t* __restrict f3,
                    uint8_t* __restrict out, int64_t pixels) {
  for (int64_t p = 0; p < pixels; ++p) {
    out[kStack * p] = f0[p];
    out[kStack * p + 1] = f1[p];
    out[kStack * p + 2] = f2[p];
    out[kStack * p + 3] = f3[p];
  }
}

// The rows of one call, handed out a chunk at a time.
struct Rows {
  const uint8_t* base;  // the frames variable's buffer
  uint8_t* dst;         // the output
  const int64_t* slots;
  int64_t pixels;
  int64_t rows;
};

void CopyRows(const Rows& job, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t* s = job.slots + r * kStack;
    InterleaveFour(job.base + s[0] * job.pixels, job.base + s[1] * job.pixels,
                   job.base + s[2] * job.pixels, job.base + s[3] * job.pixels,
                   job.dst + r * kStack * job.pixels, job.pixels);
  }
}

// Splits the rows over the calling thread and the CPU worker pool. Work is
// claimed chunk by chunk from a shared counter and the caller starts at
// once, so on a busy machine (a worker not scheduled for a while) the caller
// simply does more chunks instead of waiting for a fixed share, as
// ThreadPool::ParallelFor would. A worker that starts after the last chunk
// was claimed finds nothing to do and touches no tensor; the shared state it
// holds outlives the call.
void RunShared(const Rows& job, tsl::thread::ThreadPool* workers) {
  constexpr int64_t kRowsPerChunk = 4;  // 113 KB of output per chunk for 84x84
  const int64_t chunks = (job.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  const int helpers = std::min<int64_t>(workers->NumThreads(), chunks) - 1;
  if (helpers <= 0) {
    CopyRows(job, 0, job.rows);
    return;
  }
  struct Shared {
    Rows job;
    int64_t chunks;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mu;
    std::condition_variable finished;
  };
  auto shared = std::make_shared<Shared>();
  shared->job = job;
  shared->chunks = chunks;
  auto work = [shared]() {
    for (;;) {
      const int64_t chunk = shared->next.fetch_add(1);
      if (chunk >= shared->chunks) return;
      const int64_t begin = chunk * kRowsPerChunk;
      CopyRows(shared->job, begin, std::min(begin + kRowsPerChunk, shared->job.rows));
      if (shared->done.fetch_add(1) + 1 == shared->chunks) {
        std::lock_guard<std::mutex> hold(shared->mu);
        shared->finished.notify_all();
      }
    }
  };
  for (int i = 0; i < helpers; ++i) workers->Schedule(work);
  work();
  std::unique_lock<std::mutex> hold(shared->mu);
  shared->finished.wait(hold, [&] { return shared->done.load() == shared->chunks; });
}

class StackFramesOp : public OpKernel {
 public:
  explicit StackFramesOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    tensorflow::core::RefCountPtr<Var> variable;
    OP_REQUIRES_OK(context, LookupResource(context, HandleFromInput(context, 0), &variable));
    const Tensor& ids = context->input(1);
    OP_REQUIRES(context, ids.dims() >= 1 && ids.dim_size(ids.dims() - 1) == kStack,
                absl::InvalidArgumentError(absl::StrCat(
                    "frame_ids must have shape [..., ", kStack, "], got ",
                    ids.shape().DebugString())));

    // Shared, as ResourceGather takes it: writers wait until the copy is done.
    tensorflow::tf_shared_lock lock(*variable->mu());
    const Tensor& frames = *variable->tensor();
    OP_REQUIRES(context, frames.dtype() == tensorflow::DT_UINT8 && frames.dims() == 3,
                absl::InvalidArgumentError(absl::StrCat(
                    "frames must be a [capacity, height, width] uint8 variable, got ",
                    tensorflow::DataTypeString(frames.dtype()), " ",
                    frames.shape().DebugString())));
    const int64_t capacity = frames.dim_size(0);
    const int64_t pixels = frames.dim_size(1) * frames.dim_size(2);
    const int64_t* slots = ids.flat<int64_t>().data();
    const int64_t count = ids.NumElements();
    // Checked once here, so the copy loop needs no bounds checks.
    for (int64_t i = 0; i < count; ++i) {
      OP_REQUIRES(context, slots[i] >= 0 && slots[i] < capacity,
                  absl::InvalidArgumentError(absl::StrCat(
                      "frame_ids[", i, "] = ", slots[i], " is outside [0, ", capacity, ")")));
    }

    TensorShape out_shape = ids.shape();
    out_shape.RemoveLastDims(1);
    out_shape.AddDim(frames.dim_size(1));
    out_shape.AddDim(frames.dim_size(2));
    out_shape.AddDim(kStack);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, out_shape, &out));
    const int64_t rows = count / kStack;
    if (rows == 0 || pixels == 0) return;

    Rows job;
    job.base = frames.flat<uint8_t>().data();
    job.dst = out->flat<uint8_t>().data();
    job.slots = slots;
    job.pixels = pixels;
    job.rows = rows;
    RunShared(job, context->device()->tensorflow_cpu_worker_threads()->workers);
  }
};

REGISTER_KERNEL_BUILDER(Name("RlbookStackFrames").Device(DEVICE_CPU), StackFramesOp);

}  // namespace
