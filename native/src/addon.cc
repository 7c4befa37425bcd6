// Module entry: registers every op table and sets libtorch's process-wide defaults.
#include "common.h"

#include <cstdlib>
#include <cstring>
#include <thread>
#ifdef __linux__
#include <sched.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace audiotag {

void InitAddonData(Napi::Env env);
bool InstallCpuAllocator();
Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
void RegisterDistributed(Napi::Env env, Napi::Object exports);  // distributed.cc

namespace {

int UsableCores() {
#ifdef __linux__
  // The affinity mask respects taskset/cpusets, which hardware_concurrency() ignores.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

// Debian's libtorch starts with one intra-op thread (its OpenMP default resolves to 1 here), so the
// engine sets every usable core unless the user chose a count through OMP_NUM_THREADS.
void DefaultThreads() {
  const char* omp = std::getenv("OMP_NUM_THREADS");
  if (omp != nullptr && *omp != '\0') return;
  int cores = UsableCores();
  if (at::get_num_threads() != cores) at::set_num_threads(cores);
}

// What MemoryDefaults() did, for buildInfo() and the benchmarks.
std::string g_malloc_mode = "glibc-default";

bool EnvSet(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

// Memory (docs/engine.md, Memory): by default freed tensor memory stays in the process, in the caching
// CPU allocator of allocator.cc (blocks of 1 MiB and more, bounded), and glibc keeps the smaller blocks
// in its heap instead of mapping and trimming them (mallopt, since glibc reads its MALLOC_* variables only
// at process start). Settings are process-wide, so they cover every thread. The user's own
// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ / GLIBC_TUNABLES leave glibc alone;
// AUDIOTAG_MALLOC=default leaves both as libtorch and glibc have them, AUDIOTAG_MALLOC=glibc-keep only
// raises glibc's thresholds to 1 GiB (no caching allocator; kept to compare, see bench/README.md).
void MemoryDefaults() {
  const char* mode = std::getenv("AUDIOTAG_MALLOC");
  std::string m = mode == nullptr ? "" : mode;
  if (m == "default") return;
  bool userGlibc = EnvSet("MALLOC_MMAP_THRESHOLD_") || EnvSet("MALLOC_TRIM_THRESHOLD_") || EnvSet("GLIBC_TUNABLES");
  bool tuned = false;
#if defined(__GLIBC__)
  if (!userGlibc) {
    bool keepAll = m == "glibc-keep";
    tuned = mallopt(M_MMAP_THRESHOLD, keepAll ? 1 << 30 : 1 << 20) == 1;
    tuned = mallopt(M_TRIM_THRESHOLD, keepAll ? 1 << 30 : 64 << 20) == 1 && tuned;
    tuned = mallopt(M_TOP_PAD, keepAll ? 64 << 20 : 16 << 20) == 1 && tuned;
  }
#endif
  if (m == "glibc-keep") {
    g_malloc_mode = tuned ? "glibc-keep" : userGlibc ? "environment" : "glibc-default";
    return;
  }
  bool caching = InstallCpuAllocator();
  g_malloc_mode = std::string(caching ? "caching" : "libtorch") +
                  (userGlibc ? "+glibc-environment" : tuned ? "+glibc-tuned" : "+glibc-default");
}

const OpEntry kOps[] = {
    {"setErrorClass", SetErrorClass},
    OP("setNumThreads", {
      int64_t n = I(info, 0);
      if (n < 1) throw ArgError("thread count must be at least 1");
      at::set_num_threads(static_cast<int>(n));
      return Nothing(info);
    }),
    OP("getNumThreads", { return Napi::Number::New(info.Env(), at::get_num_threads()); }),
    OP("usableCores", { return Napi::Number::New(info.Env(), UsableCores()); }),
    // Grad mode is thread-local in libtorch; every engine call runs on the JS main thread.
    OP("setGradEnabled", {
      at::GradMode::set_enabled(B(info, 0));
      return Nothing(info);
    }),
    OP("isGradEnabled", { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }),
    OP("manualSeed", {
      // Seeds the CPU generator and, when present, every CUDA generator.
      torch::manual_seed(static_cast<uint64_t>(I(info, 0)));
      return Nothing(info);
    }),
    OP("cudaIsAvailable", { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); }),
    OP("cudaDeviceCount", {
      return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
    }),
    OP("cudaSynchronize", {
      if (torch::cuda::is_available()) torch::cuda::synchronize(IsNil(info, 0) ? -1 : I(info, 0));
      return Nothing(info);
    }),
    OP("buildInfo", {
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("torchVersion", TORCH_VERSION);
#ifdef AUDIOTAG_WITH_CUDA
      o.Set("cuda", true);
#else
      o.Set("cuda", false);
#endif
      o.Set("cxx11Abi", static_cast<bool>(_GLIBCXX_USE_CXX11_ABI));
      o.Set("parallel", at::get_parallel_info());
      o.Set("malloc", g_malloc_mode);
      return o;
    }),
};

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitAddonData(env);
  MemoryDefaults();
  DefaultThreads();
  Define(env, exports, kOps);
  RegisterTensor(env, exports);
  RegisterMath(env, exports);
  RegisterNN(env, exports);
  RegisterOptim(env, exports);
  RegisterPerf(env, exports);
  RegisterAllocator(env, exports);
  RegisterDistributed(env, exports);
  return exports;
}

}  // namespace audiotag

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return audiotag::Init(env, exports); }

NODE_API_MODULE(audiotag_native, InitModule)
