// Winograd F(4×4, 3×3) convolutions on the CPU through oneDNN: the library libtorch's CPU convolutions
// already run on, asked for its Winograd kernels (jit_wino_4x3) where libtorch always asks for direct
// ones. A 3×3, stride-1 convolution then does about half the arithmetic (forward, backward data and
// backward weights alike); results differ from direct convolution by rounding only. docs/engine.md,
// "Convolution algorithm", has the measurements and when it applies.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "common.h"
#include "winograd.h"

#ifdef AUDIOTAG_WITH_DNNL
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>
#include <unordered_map>
#endif

namespace audiotag {

int ConvAlgorithmFromEnv() {
  const char* v = std::getenv("AUDIOTAG_CONV_ALGORITHM");
  return v != nullptr && std::strcmp(v, "winograd") == 0 ? 1 : 0;
}

bool ConvAlgorithmFixedByEnv() { return std::getenv("AUDIOTAG_CONV_ALGORITHM") != nullptr; }

#ifndef AUDIOTAG_WITH_DNNL
// Built without oneDNN's headers: the switch exists, every convolution is libtorch's.
void SetConvAlgorithm(bool) {}
bool ConvAlgorithmIsWinograd() { return false; }
c10::optional<at::Tensor> WinogradConv2d(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&,
                                         at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t) {
  return c10::nullopt;
}
#else

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// Off unless set: the TypeScript side turns it on for the trainer and the inference paths (or the
// environment, AUDIOTAG_CONV_ALGORITHM=winograd|direct, overrides it at load).
std::atomic<int> gAlgorithm{ConvAlgorithmFromEnv()};

// AUDIOTAG_WINOGRAD_MIN_TILES overrides both thresholds (for measuring where Winograd starts to pay).
int64_t MinTiles(bool training) {
  static const int64_t fromEnv = [] {
    const char* v = std::getenv("AUDIOTAG_WINOGRAD_MIN_TILES");
    return v != nullptr ? std::max<int64_t>(1, std::atoll(v)) : 0;
  }();
  if (fromEnv > 0) return fromEnv;
  return training ? kWinogradMinTilesTraining : kWinogradMinTilesInference;
}

dnnl::engine& Engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One convolution shape: its primitives are built (JIT-compiled) once and reused.
struct Key {
  int64_t n, ic, oc, h, w, pad;
  bool channelsLast, weightsLast, bias, training;
  bool operator==(const Key& o) const { return std::memcmp(this, &o, sizeof(Key)) == 0; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : {k.n, k.ic, k.oc, k.h, k.w, k.pad}) h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h ^ (k.channelsLast | k.weightsLast << 1 | k.bias << 2 | k.training << 3);
  }
};

struct Plan {
  memory::desc src, weights, bias, dst;  // the caller's (libtorch's) layouts
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data::primitive_desc bwdDataPd;
  dnnl::convolution_backward_data bwdData;
  dnnl::convolution_backward_weights::primitive_desc bwdWeightsPd;
  dnnl::convolution_backward_weights bwdWeights;
};

std::mutex gPlansMutex;
std::unordered_map<Key, std::unique_ptr<Plan>, KeyHash> gPlans;
// Shapes oneDNN has no Winograd kernel for: they stay on libtorch's path.
std::unordered_map<Key, bool, KeyHash> gUnsupported;

memory::desc Desc(memory::dims dims, Tag tag) { return memory::desc(dims, memory::data_type::f32, tag); }

std::unique_ptr<Plan> MakePlan(const Key& k) {
  auto plan = std::make_unique<Plan>();
  memory::dims src{k.n, k.ic, k.h, k.w}, wei{k.oc, k.ic, 3, 3}, bias{k.oc}, dst{k.n, k.oc, k.h + 2 * k.pad - 2,
                                                                                    k.w + 2 * k.pad - 2};
  memory::dims stride{1, 1}, pad{k.pad, k.pad};
  plan->src = Desc(src, k.channelsLast ? Tag::nhwc : Tag::nchw);
  plan->dst = Desc(dst, k.channelsLast ? Tag::nhwc : Tag::nchw);
  plan->weights = Desc(wei, k.weightsLast ? Tag::ohwi : Tag::oihw);
  plan->bias = k.bias ? Desc(bias, Tag::x) : memory::desc();
  auto anySrc = Desc(src, Tag::any), anyWei = Desc(wei, Tag::any), anyDst = Desc(dst, Tag::any);
  const auto alg = dnnl::algorithm::convolution_winograd;
  auto prop = k.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  auto fd = k.bias ? dnnl::convolution_forward::desc(prop, alg, anySrc, anyWei, plan->bias, anyDst, stride, pad, pad)
                   : dnnl::convolution_forward::desc(prop, alg, anySrc, anyWei, anyDst, stride, pad, pad);
  plan->fwdPd = dnnl::convolution_forward::primitive_desc(fd, Engine());
  plan->fwd = dnnl::convolution_forward(plan->fwdPd);
  if (!k.training) return plan;
  dnnl::convolution_backward_data::desc bd(alg, anySrc, anyWei, anyDst, stride, pad, pad);
  plan->bwdDataPd = dnnl::convolution_backward_data::primitive_desc(bd, Engine(), plan->fwdPd);
  plan->bwdData = dnnl::convolution_backward_data(plan->bwdDataPd);
  auto wd = k.bias ? dnnl::convolution_backward_weights::desc(alg, anySrc, anyWei, plan->bias, anyDst, stride, pad, pad)
                   : dnnl::convolution_backward_weights::desc(alg, anySrc, anyWei, anyDst, stride, pad, pad);
  plan->bwdWeightsPd = dnnl::convolution_backward_weights::primitive_desc(wd, Engine(), plan->fwdPd);
  plan->bwdWeights = dnnl::convolution_backward_weights(plan->bwdWeightsPd);
  return plan;
}

// The plan for a shape, or nullptr when oneDNN has no Winograd kernel for it (remembered).
Plan* FindPlan(const Key& k) {
  std::lock_guard<std::mutex> lock(gPlansMutex);
  auto it = gPlans.find(k);
  if (it != gPlans.end()) return it->second.get();
  if (gUnsupported.count(k)) return nullptr;
  try {
    return gPlans.emplace(k, MakePlan(k)).first->second.get();
  } catch (const dnnl::error&) {
    gUnsupported.emplace(k, true);
    return nullptr;
  }
}

// Scratch buffers in the kernels' blocked layouts come from libtorch's allocator (the engine's cache).
struct Buffer {
  at::Tensor storage;
  memory mem;
};
Buffer Blocked(const memory::desc& d) {
  at::Tensor t = at::empty({static_cast<int64_t>(d.get_size() / sizeof(float)) + 16}, at::kFloat);
  return {t, memory(d, Engine(), t.data_ptr())};
}

memory User(const memory::desc& d, const at::Tensor& t) { return memory(d, Engine(), t.data_ptr()); }

// `user` in the layout `want`: the same memory when the layouts agree, else a reordered copy.
Buffer As(const memory& user, const memory::desc& want, dnnl::stream& s) {
  if (user.get_desc() == want) return {at::Tensor(), user};
  Buffer b = Blocked(want);
  dnnl::reorder(user, b.mem).execute(s, const_cast<memory&>(user), b.mem);
  return b;
}

// Writes `blocked` into the caller's tensor memory `user` (a no-op when it already is that memory).
void Into(const memory& blocked, const memory& user, dnnl::stream& s) {
  if (blocked.get_data_handle() == user.get_data_handle()) return;
  dnnl::reorder(blocked, user).execute(s, const_cast<memory&>(blocked), const_cast<memory&>(user));
}

at::MemoryFormat Format(bool last) { return last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous; }

// Tensors as the plan reads them: x and w each in their own layout (NCHW or NHWC), dense.
bool IsLast(const at::Tensor& t) { return !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast); }
at::Tensor Dense(const at::Tensor& t) { return IsLast(t) ? t : t.contiguous(); }

Key MakeKey(const at::Tensor& x, const at::Tensor& w, bool bias, int64_t pad, bool training) {
  return Key{x.size(0), x.size(1), w.size(0), x.size(2), x.size(3), pad, IsLast(x), IsLast(w), bias, training};
}

at::Tensor Forward(Plan& p, const Key& k, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  RECORD_FUNCTION("audiotag::winograd_convolution", std::vector<c10::IValue>());  // seen by profileOps
  dnnl::stream s(Engine());
  at::Tensor y = at::empty({k.n, k.oc, k.h + 2 * k.pad - 2, k.w + 2 * k.pad - 2}, x.options(),
                           Format(k.channelsLast));
  Buffer src = As(User(p.src, x), p.fwdPd.src_desc(), s);
  Buffer wei = As(User(p.weights, w), p.fwdPd.weights_desc(), s);
  memory yUser = User(p.dst, y);
  Buffer dst = p.fwdPd.dst_desc() == p.dst ? Buffer{at::Tensor(), yUser} : Blocked(p.fwdPd.dst_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DST, dst.mem}};
  if (k.bias) args[DNNL_ARG_BIAS] = User(p.bias, b);
  p.fwd.execute(s, args);
  Into(dst.mem, yUser, s);
  s.wait();
  return y;
}

// gx (when wanted), gw, gb (when the convolution has a bias) for the output gradient g.
std::vector<at::Tensor> Backward(Plan& p, const Key& k, const at::Tensor& x, const at::Tensor& w,
                                 const at::Tensor& gIn, bool wantX) {
  RECORD_FUNCTION("audiotag::winograd_convolution_backward", std::vector<c10::IValue>());
  dnnl::stream s(Engine());
  at::Tensor g = gIn.contiguous(Format(k.channelsLast));
  memory gUser = User(p.dst, g);
  at::Tensor gx, gw = at::empty_like(w, Format(k.weightsLast)), gb;
  Buffer gData = As(gUser, p.bwdWeightsPd.diff_dst_desc(), s);
  if (wantX) {
    gx = at::empty_like(x, Format(k.channelsLast));
    memory gxUser = User(p.src, gx);
    Buffer gDataD = p.bwdDataPd.diff_dst_desc() == gData.mem.get_desc() ? gData : As(gUser, p.bwdDataPd.diff_dst_desc(), s);
    Buffer wei = As(User(p.weights, w), p.bwdDataPd.weights_desc(), s);
    Buffer diffSrc = p.bwdDataPd.diff_src_desc() == p.src ? Buffer{at::Tensor(), gxUser} : Blocked(p.bwdDataPd.diff_src_desc());
    p.bwdData.execute(s, {{DNNL_ARG_DIFF_DST, gDataD.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DIFF_SRC, diffSrc.mem}});
    Into(diffSrc.mem, gxUser, s);
  }
  Buffer src = As(User(p.src, x), p.bwdWeightsPd.src_desc(), s);
  memory gwUser = User(p.weights, gw);
  Buffer diffW = p.bwdWeightsPd.diff_weights_desc() == p.weights ? Buffer{at::Tensor(), gwUser}
                                                                  : Blocked(p.bwdWeightsPd.diff_weights_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, gData.mem},
                                       {DNNL_ARG_DIFF_WEIGHTS, diffW.mem}};
  if (k.bias) {
    gb = at::empty({k.oc}, x.options());
    args[DNNL_ARG_DIFF_BIAS] = User(p.bias, gb);
  }
  p.bwdWeights.execute(s, args);
  Into(diffW.mem, gwUser, s);
  s.wait();
  return {gx, gw, gb};
}

struct WinogradConv : public torch::autograd::Function<WinogradConv> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x, at::Tensor w, at::Tensor b,
                            int64_t pad) {
    // No bias arrives as an empty tensor (apply takes no undefined tensors).
    bool bias = b.numel() > 0;
    Key k = MakeKey(x, w, bias, pad, true);
    Plan* p = FindPlan(k);
    TORCH_CHECK(p != nullptr, "winograd plan vanished");
    ctx->save_for_backward({x, w});
    ctx->saved_data["pad"] = pad;
    ctx->saved_data["bias"] = bias;
    return Forward(*p, k, x, w, bias ? b : at::Tensor());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    bool bias = ctx->saved_data["bias"].toBool();
    Key k = MakeKey(saved[0], saved[1], bias, ctx->saved_data["pad"].toInt(), true);
    auto g = Backward(*FindPlan(k), k, saved[0], saved[1], grads[0], ctx->needs_input_grad(0));
    return {g[0], g[1], bias ? g[2] : at::Tensor(), at::Tensor()};
  }
};

}  // namespace

void SetConvAlgorithm(bool winograd) {
  if (!ConvAlgorithmFixedByEnv()) gAlgorithm = winograd ? 1 : 0;
}
bool ConvAlgorithmIsWinograd() { return gAlgorithm.load() == 1; }

// Winograd pays where a convolution has work to share between tiles: 3×3, stride 1, no dilation, one
// group, 16-multiples of channels, symmetric padding 0 or 1, float32 on the CPU outside autocast, and
// enough 4×4 output tiles (below that the transforms cost more than they save; bench/README.md).
c10::optional<at::Tensor> WinogradConv2d(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                                         at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                                         int64_t groups) {
  if (gAlgorithm.load() != 1 || x.dim() != 4 || w.dim() != 4 || groups != 1) return c10::nullopt;
  if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat) return c10::nullopt;
  if (b && b->defined() && b->scalar_type() != at::kFloat) return c10::nullopt;
  if (w.size(2) != 3 || w.size(3) != 3 || x.size(1) % 16 != 0 || w.size(0) % 16 != 0) return c10::nullopt;
  if (stride.size() != 2 || stride[0] != 1 || stride[1] != 1 || dilation[0] != 1 || dilation[1] != 1) return c10::nullopt;
  if (padding.size() != 2 || padding[0] != padding[1] || padding[0] > 1) return c10::nullopt;
  if (at::autocast::is_cpu_enabled()) return c10::nullopt;
  int64_t oh = x.size(2) + 2 * padding[0] - 2, ow = x.size(3) + 2 * padding[0] - 2;
  bool training = at::GradMode::is_enabled() &&
                  (x.requires_grad() || w.requires_grad() || (b && b->defined() && b->requires_grad()));
  if (oh < 4 || ow < 4 || x.size(0) * ((oh + 3) / 4) * ((ow + 3) / 4) < MinTiles(training)) return c10::nullopt;
  at::Tensor xd = Dense(x), wd = Dense(w), bd = b && b->defined() ? b->contiguous() : at::Tensor();
  // Inference kernels take weights pre-transformed; oneDNN reorders only OIHW weights into that form.
  if (!training && IsLast(wd)) wd = wd.contiguous();
  Key k = MakeKey(xd, wd, bd.defined(), padding[0], training);
  Plan* p = FindPlan(k);
  if (p == nullptr) return c10::nullopt;
  if (!training) return Forward(*p, k, xd, wd, bd);
  return WinogradConv::apply(xd, wd, bd.defined() ? bd : at::empty({0}, x.options()), padding[0]);
}

#endif  // AUDIOTAG_WITH_DNNL

}  // namespace audiotag
