// Data-parallel training over libtorch's c10d (docs/distributed.md): a TCPStore (rank 0 hosts it) for
// the rendezvous and a ProcessGroupGloo for the collectives: gradient all-reduce in flattened buckets
// (averaged over the ranks) and broadcast of the initial parameters. One process group per process.
// Built only with -DUSE_C10D_GLOO (the Makefile sets it when Debian's libgloo-dev headers are there);
// without it distAvailable() is false and the other ops throw.
#include "common.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <chrono>

namespace audiotag {

namespace {

#ifdef USE_C10D_GLOO
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  int rank = 0;
  int world = 1;
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
  if (root < 0) {
    g.pg->allreduce(flat)->wait();
    if (average) flat[0].div_(g.world);
  } else {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    g.pg->broadcast(flat, o)->wait();
  }
  int64_t off = 0;
  for (const auto& t : bucket) {
    int64_t n = t.numel();
    t.copy_(flat[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}
#endif

#ifdef USE_C10D_GLOO
#define NEED_GLOO
#else
#define NEED_GLOO throw ArgError("this addon was built without c10d Gloo (USE_C10D_GLOO); see docs/distributed.md")
#endif

const OpEntry kOps[] = {
    OP("distAvailable", {
#ifdef USE_C10D_GLOO
      return Napi::Boolean::New(info.Env(), true);
#else
      return Napi::Boolean::New(info.Env(), false);
#endif
    }),
    // distInit(host, port, rank, worldSize, timeoutMs): rank 0 hosts the TCPStore; every rank waits
    // (up to timeoutMs) for the others to join.
    OP("distInit", {
      NEED_GLOO;
#ifdef USE_C10D_GLOO
      std::string host = S(info, 0);
      int64_t port = I(info, 1), rank = I(info, 2), world = I(info, 3), timeoutMs = I(info, 4);
      if (g_group) throw ArgError("a process group already exists in this process");
      if (port < 1 || port > 65535) throw ArgError("port must be 1..65535, got " + std::to_string(port));
      if (world < 1 || rank < 0 || rank >= world)
        throw ArgError("rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world - 1));
      auto g = std::make_unique<Group>();
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(port);
      so.isServer = rank == 0;
      so.numWorkers = static_cast<size_t>(world);
      so.waitWorkers = true;
      so.timeout = std::chrono::milliseconds(timeoutMs);
      g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
      auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeoutMs));
      // The device binds to the address this host uses to reach the master (127.0.0.1 on one machine).
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname != nullptr && *ifname != '\0')
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (host == "127.0.0.1" || host == "localhost")
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, static_cast<int>(rank),
                                                          static_cast<int>(world), opts);
      g->rank = static_cast<int>(rank);
      g->world = static_cast<int>(world);
      g_group = std::move(g);
#endif
      return Nothing(info);
    }),
    // distAllreduceGrads(params): every parameter's .grad summed over the ranks and divided by the
    // world size, in place (a parameter without a gradient contributes zeros and gets one).
    OP("distAllreduceGrads", {
      NEED_GLOO;
#ifdef USE_C10D_GLOO
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
      NEED_GLOO;
#ifdef USE_C10D_GLOO
      Group& g = Need();
      at::NoGradGuard ng;
      ForBuckets(TList(info, 0), [&](const std::vector<at::Tensor>& b) { Flat(g, b, B(info, 1), -1); });
#endif
      return Nothing(info);
    }),
    // distBroadcast(tensors, root): every rank's tensors take root's values, in place.
    OP("distBroadcast", {
      NEED_GLOO;
#ifdef USE_C10D_GLOO
      Group& g = Need();
      int64_t root = I(info, 1);
      if (root < 0 || root >= g.world) throw ArgError("root rank " + std::to_string(root) + " is out of range");
      at::NoGradGuard ng;
      ForBuckets(TList(info, 0), [&](const std::vector<at::Tensor>& b) { Flat(g, b, false, static_cast<int>(root)); });
#endif
      return Nothing(info);
    }),
    OP("distBarrier", {
      NEED_GLOO;
#ifdef USE_C10D_GLOO
      Need().pg->barrier()->wait();
#endif
      return Nothing(info);
    }),
    OP("distDestroy", {
#ifdef USE_C10D_GLOO
      g_group.reset();
#endif
      return Nothing(info);
    }),
};

}  // namespace

void RegisterDistributed(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
