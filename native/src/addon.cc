// Module entry: registers every op table and sets libtorch's process-wide defaults.
#include "common.h"

#include <cstdlib>
#include <thread>
#ifdef __linux__
#include <sched.h>
#endif

namespace audiotag {

void InitAddonData(Napi::Env env);
Napi::Value SetErrorClass(const Napi::CallbackInfo& info);

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
      return o;
    }),
};

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitAddonData(env);
  DefaultThreads();
  Define(env, exports, kOps);
  RegisterTensor(env, exports);
  RegisterMath(env, exports);
  RegisterNN(env, exports);
  RegisterOptim(env, exports);
  return exports;
}

}  // namespace audiotag

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return audiotag::Init(env, exports); }

NODE_API_MODULE(audiotag_native, InitModule)
