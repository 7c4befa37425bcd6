// Data-parallel training over libtorch's c10d (docs/distributed.md): a TCPStore (rank 0 hosts it) for
// the rendezvous and a process group for the collectives: gradient all-reduce in flattened buckets
// (averaged over the ranks) and broadcast of the initial parameters. One process group per process.
// Backends: ProcessGroupGloo with -DUSE_C10D_GLOO (the Makefile sets it when Debian's libgloo-dev headers
// are there; CPU, and CUDA tensors too), ProcessGroupNCCL with -DUSE_C10D_NCCL (the Makefile sets it for a
// CUDA libtorch when nccl.h and the CUDA headers are found; NOT verified on a GPU here: no CUDA libtorch
// could be obtained on the development machine). Without either, distAvailable() is false and the other
// ops throw.
#include "common.h"

#if defined(USE_C10D_GLOO) || defined(USE_C10D_NCCL)
#define AUDIOTAG_C10D 1
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>

namespace audiotag {

namespace {

#ifdef AUDIOTAG_C10D
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
#ifdef USE_C10D_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  // NCCL: this rank's GPU (collectives of CPU tensors go through it).
  c10::Device device = c10::Device(c10::kCPU);
  int rank = 0;
  int world = 1;

  // Calls fn with the group's backend (both have the same collective methods).
  template <typename F>
  void Run(F fn) {
#ifdef USE_C10D_NCCL
    if (nccl) return fn(*nccl);
#endif
#ifdef USE_C10D_GLOO
    if (gloo) return fn(*gloo);
#endif
    throw ArgError("the process group has no backend");
  }
};
std::unique_ptr<Group> g_group;

Group& Need() {
  if (!g_group) throw ArgError("no process group: call distInit first");
  return *g_group;
}

// Buckets of at most this many bytes: one collective per bucket instead of one per parameter.
constexpr int64_t kBucketBytes = 25 << 20;

// Runs fn on groups of same-dtype/device tensors whose total size stays under kBucketBytes.
template <typename F>
void ForBuckets(const std::vector<at::Tensor>& ts, F fn) {
  std::vector<at::Tensor> cur;
  int64_t bytes = 0;
  for (const auto& t : ts) {
    int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
    if (!cur.empty() && (bytes + b > kBucketBytes || cur[0].scalar_type() != t.scalar_type() ||
                         cur[0].device() != t.device())) {
      fn(cur);
      cur.clear();
      bytes = 0;
    }
    cur.push_back(t);
    bytes += b;
  }
  if (!cur.empty()) fn(cur);
}

// Flattens a bucket, runs the collective on the flat tensor, and copies the result back.
void Flat(Group& g, const std::vector<at::Tensor>& bucket, bool average, int root) {
  std::vector<at::Tensor> flat{at::cat(c10::fmap(bucket, [](const at::Tensor& t) { return t.reshape({-1}); }))};
  // NCCL only reduces GPU tensors: a CPU bucket (e.g. a step counter) goes through this rank's GPU.
  if (g.device.is_cuda() && !flat[0].is_cuda()) flat[0] = flat[0].to(g.device);
  if (root < 0) {
    g.Run([&](auto& pg) { pg.allreduce(flat)->wait(); });
    if (average) flat[0].div_(g.world);
  } else {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    g.Run([&](auto& pg) { pg.broadcast(flat, o)->wait(); });
  }
  int64_t off = 0;
  for (const auto& t : bucket) {
    int64_t n = t.numel();
    t.copy_(flat[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}
#endif

#ifdef AUDIOTAG_C10D
#define NEED_C10D
#else
#define NEED_C10D \
  throw ArgError("this addon was built without c10d (USE_C10D_GLOO / USE_C10D_NCCL); see docs/distributed.md")
#endif

const OpEntry kOps[] = {
    OP("distAvailable", {
#ifdef AUDIOTAG_C10D
      return Napi::Boolean::New(info.Env(), true);
#else
      return Napi::Boolean::New(info.Env(), false);
#endif
    }),
    // distBackends(): the process-group backends this addon was built with ("gloo", "nccl").
    OP("distBackends", {
      Napi::Array a = Napi::Array::New(info.Env());
      uint32_t n = 0;
#ifdef USE_C10D_GLOO
      a.Set(n++, Napi::String::New(info.Env(), "gloo"));
#endif
#ifdef USE_C10D_NCCL
      a.Set(n++, Napi::String::New(info.Env(), "nccl"));
#endif
      (void)n;
      return a;
    }),
    // distInit(host, port, rank, worldSize, timeoutMs[, backend = "gloo"[, cudaDevice]]): rank 0 hosts
    // the TCPStore; every rank waits (up to timeoutMs) for the others to join. "nccl" makes cudaDevice
    // (this rank's GPU, usually LOCAL_RANK) the current device first.
    OP("distInit", {
      NEED_C10D;
#ifdef AUDIOTAG_C10D
      std::string host = S(info, 0);
      int64_t port = I(info, 1), rank = I(info, 2), world = I(info, 3), timeoutMs = I(info, 4);
      std::string backend = info.Length() > 5 && !IsNil(info, 5) ? S(info, 5) : "gloo";
      if (g_group) throw ArgError("a process group already exists in this process");
      if (port < 1 || port > 65535) throw ArgError("port must be 1..65535, got " + std::to_string(port));
      if (world < 1 || rank < 0 || rank >= world)
        throw ArgError("rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world - 1));
      if (backend != "gloo" && backend != "nccl")
        throw ArgError("backend must be gloo or nccl, got \"" + backend + "\"");
#ifndef USE_C10D_GLOO
      if (backend == "gloo")
        throw ArgError("this addon was built without c10d Gloo (USE_C10D_GLOO); see docs/distributed.md");
#endif
#ifndef USE_C10D_NCCL
      if (backend == "nccl")
        throw ArgError("this addon was built without c10d NCCL (USE_C10D_NCCL: a CUDA libtorch); see docs/distributed.md");
#endif
      auto g = std::make_unique<Group>();
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(port);
      so.isServer = rank == 0;
      so.numWorkers = static_cast<size_t>(world);
      so.waitWorkers = true;
      so.timeout = std::chrono::milliseconds(timeoutMs);
      g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
#ifdef USE_C10D_NCCL
      if (backend == "nccl") {
        int64_t dev = info.Length() > 6 && !IsNil(info, 6) ? I(info, 6) : 0;
        if (dev < 0 || dev >= static_cast<int64_t>(torch::cuda::device_count()))
          throw ArgError("CUDA device " + std::to_string(dev) + " is not in 0.." +
                         std::to_string(static_cast<int64_t>(torch::cuda::device_count()) - 1));
        c10::cuda::set_device(static_cast<c10::DeviceIndex>(dev));
        g->device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(dev));
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = std::chrono::milliseconds(timeoutMs);
        g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, static_cast<int>(rank),
                                                              static_cast<int>(world), opts);
      }
#endif
#ifdef USE_C10D_GLOO
      if (backend == "gloo") {
        auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeoutMs));
        // The device binds to the address this host uses to reach the master (127.0.0.1 on one machine).
        const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
        if (ifname != nullptr && *ifname != '\0')
          opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (host == "127.0.0.1" || host == "localhost")
          opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
          opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, static_cast<int>(rank),
                                                              static_cast<int>(world), opts);
      }
#endif
      g->rank = static_cast<int>(rank);
      g->world = static_cast<int>(world);
      g_group = std::move(g);
#endif
      return Nothing(info);
    }),
    // distAllreduceGrads(params): every parameter's .grad summed over the ranks and divided by the
    // world size, in place (a parameter without a gradient contributes zeros and gets one).
    OP("distAllreduceGrads", {
      NEED_C10D;
#ifdef AUDIOTAG_C10D
      Group& g = Need();
      std::vector<at::Tensor> grads;
      for (auto& p : TList(info, 0)) {
        at::Tensor& gr = p.mutable_grad();
        if (!gr.defined()) gr = at::zeros_like(p);
        grads.push_back(gr);
      }
      at::NoGradGuard ng;
      ForBuckets(grads, [&](const std::vector<at::Tensor>& b) { Flat(g, b, true, -1); });
#endif
      return Nothing(info);
    }),
    // distAllreduce(tensors, average): sums (or averages) the tensors over the ranks, in place.
    OP("distAllreduce", {
      NEED_C10D;
#ifdef AUDIOTAG_C10D
      Group& g = Need();
      at::NoGradGuard ng;
      ForBuckets(TList(info, 0), [&](const std::vector<at::Tensor>& b) { Flat(g, b, B(info, 1), -1); });
#endif
      return Nothing(info);
    }),
    // distBroadcast(tensors, root): every rank's tensors take root's values, in place.
    OP("distBroadcast", {
      NEED_C10D;
#ifdef AUDIOTAG_C10D
      Group& g = Need();
      int64_t root = I(info, 1);
      if (root < 0 || root >= g.world) throw ArgError("root rank " + std::to_string(root) + " is out of range");
      at::NoGradGuard ng;
      ForBuckets(TList(info, 0), [&](const std::vector<at::Tensor>& b) { Flat(g, b, false, static_cast<int>(root)); });
#endif
      return Nothing(info);
    }),
    OP("distBarrier", {
      NEED_C10D;
#ifdef AUDIOTAG_C10D
      Need().Run([](auto& pg) { pg.barrier()->wait(); });
#endif
      return Nothing(info);
    }),
    OP("distDestroy", {
#ifdef AUDIOTAG_C10D
      g_group.reset();
#endif
      return Nothing(info);
    }),
};

}  // namespace

void RegisterDistributed(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
