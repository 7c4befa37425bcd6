// Speed controls: memory formats, autocast (reduced precision), and the process allocator's state.
#include "common.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <memory>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace audiotag {

namespace {

// Codes shared with src/engine/perf.ts.
at::MemoryFormat FormatFromCode(int64_t code) {
  switch (code) {
    case 0: return at::MemoryFormat::Contiguous;
    case 1: return at::MemoryFormat::ChannelsLast;
    case 2: return at::MemoryFormat::ChannelsLast3d;
    default: throw ArgError("unknown memory format code " + std::to_string(code));
  }
}

bool IsCuda(const Napi::CallbackInfo& info, size_t i) { return S(info, i) == "cuda"; }

// The op profiler in progress (libtorch's legacy autograd profiler, which writes a chrome://tracing file
// when it ends); one at a time, on the thread that runs the engine.
std::unique_ptr<torch::autograd::profiler::RecordProfile> g_profile;

const OpEntry kOps[] = {
    // contiguousFormat(t, code): a copy in that layout (the tensor itself when it already is).
    OP("contiguousFormat", { return Wrap(info, T(info, 0).contiguous(FormatFromCode(I(info, 1)))); }),
    OP("isContiguousFormat", {
      return Napi::Boolean::New(info.Env(), T(info, 0).is_contiguous(FormatFromCode(I(info, 1))));
    }),
    // setMemoryFormat_(tensors, code): re-lays out, in place, every tensor of the format's rank (4-D for
    // channels-last, 5-D for channels-last-3d; others untouched), keeping identity, requires_grad and
    // autograd leaf status, as PyTorch's module.to(memory_format=...) does for parameters. Returns how many.
    OP("setMemoryFormat_", {
      at::MemoryFormat f = FormatFromCode(I(info, 1));
      int64_t rank = f == at::MemoryFormat::ChannelsLast3d ? 5 : 4;
      int64_t n = 0;
      at::NoGradGuard ng;
      for (at::Tensor t : TList(info, 0)) {
        if (t.dim() != rank || t.is_contiguous(f)) continue;
        t.set_data(t.contiguous(f));
        ++n;
      }
      return Napi::Number::New(info.Env(), static_cast<double>(n));
    }),
    // profileStart(path) / profileStop(): record every libtorch op (forward, autograd backward nodes,
    // optimiser ops) with its wall time into a chrome trace at path.
    OP("profileStart", {
      if (g_profile) throw ArgError("a profile is already being recorded");
      g_profile = std::make_unique<torch::autograd::profiler::RecordProfile>(S(info, 0));
      return Nothing(info);
    }),
    OP("profileStop", {
      if (!g_profile) throw ArgError("no profile is being recorded");
      g_profile.reset();
      return Nothing(info);
    }),
    // autocastEnter(device, dtype) -> [wasEnabled, previousDtypeCode]: as torch.autocast's __enter__.
    OP("autocastEnter", {
      bool cuda = IsCuda(info, 0);
      at::ScalarType dt = DType(info, 1);
      Napi::Array prev = Napi::Array::New(info.Env(), 2);
      if (cuda) {
        prev.Set(0u, at::autocast::is_enabled());
        prev.Set(1u, static_cast<double>(CodeFromScalarType(at::autocast::get_autocast_gpu_dtype())));
        at::autocast::set_autocast_gpu_dtype(dt);
        at::autocast::set_enabled(true);
      } else {
        prev.Set(0u, at::autocast::is_cpu_enabled());
        prev.Set(1u, static_cast<double>(CodeFromScalarType(at::autocast::get_autocast_cpu_dtype())));
        at::autocast::set_autocast_cpu_dtype(dt);
        at::autocast::set_cpu_enabled(true);
      }
      at::autocast::increment_nesting();
      return prev;
    }),
    // autocastExit(device, wasEnabled, previousDtypeCode): restores; the outermost exit drops the cast cache.
    OP("autocastExit", {
      bool cuda = IsCuda(info, 0);
      if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
      if (cuda) {
        at::autocast::set_enabled(B(info, 1));
        at::autocast::set_autocast_gpu_dtype(DType(info, 2));
      } else {
        at::autocast::set_cpu_enabled(B(info, 1));
        at::autocast::set_autocast_cpu_dtype(DType(info, 2));
      }
      return Nothing(info);
    }),
    OP("isAutocastEnabled", {
      return Napi::Boolean::New(info.Env(),
                                IsCuda(info, 0) ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled());
    }),
    // mallocStats(): glibc's view of the process heap, in bytes (zeros elsewhere).
    OP("mallocStats", {
      Napi::Object o = Napi::Object::New(info.Env());
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
      struct mallinfo2 m = mallinfo2();
      o.Set("heapBytes", static_cast<double>(m.arena));
      o.Set("mmapBytes", static_cast<double>(m.hblkhd));
      o.Set("inUseBytes", static_cast<double>(m.uordblks + m.hblkhd));
      o.Set("freeBytes", static_cast<double>(m.fordblks));
#else
      o.Set("heapBytes", 0);
      o.Set("mmapBytes", 0);
      o.Set("inUseBytes", 0);
      o.Set("freeBytes", 0);
#endif
      return o;
    }),
    // mallocTrim(): hands the heap's free pages back to the kernel (after training, before serving...).
    OP("mallocTrim", {
#if defined(__GLIBC__)
      return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
      return Napi::Boolean::New(info.Env(), false);
#endif
    }),
};

}  // namespace

void RegisterPerf(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
