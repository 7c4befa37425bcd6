// Tensor handles: creation, data in and out, metadata, autograd, views, devices and random numbers.
#include "common.h"

#include <cstring>

namespace audiotag {

namespace {

at::TensorOptions Opts(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg) {
  return at::TensorOptions().dtype(DType(info, dtypeArg)).device(Dev(info, deviceArg));
}

// Moves/casts a freshly made CPU tensor to the requested dtype and device, then sets requires_grad,
// so the result is a leaf like torch.tensor(..., requires_grad=True).
at::Tensor Finish(at::Tensor t, at::ScalarType dtype, const c10::Device& device, bool requiresGrad) {
  if (t.scalar_type() != dtype || t.device() != device) t = t.to(device, dtype);
  if (requiresGrad) t.requires_grad_(true);
  return t;
}

// fromBuffer(typedArray, shape, srcDtype, dstDtype, device, requiresGrad): copies the bytes of any
// typed array (read as srcDtype, native byte order) into a new tensor. TS checks the length first;
// the check here guards the memcpy.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw ArgError("argument 0 is not a typed array");
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = IList(info, 1);
  at::ScalarType src = DType(info, 2);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
  size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
  if (ta.ByteLength() != bytes)
    throw ArgError(std::to_string(ta.ByteLength()) + " bytes do not fit shape " + c10::str(t.sizes()) +
                   " of " + std::string(c10::toString(src)) + " (" + std::to_string(bytes) + " expected)");
  if (bytes > 0) {
    const auto* base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data());
    std::memcpy(t.data_ptr(), base + ta.ByteOffset(), bytes);
  }
  return Wrap(info, Finish(std::move(t), DType(info, 3), Dev(info, 4), B(info, 5)));
}

// toBuffer(t, dtype): a CPU, contiguous copy converted to dtype, as a fresh ArrayBuffer.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  at::Tensor t = T(info, 0).detach().to(at::kCPU, DType(info, 1)).contiguous();
  size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return buf;
}

const OpEntry kOps[] = {
    {"fromBuffer", FromBuffer},
    {"toBuffer", ToBuffer},
    OP("dispose", {
      // Releasing the reference frees the memory unless a view, the autograd graph or an
      // optimiser still holds it; the handle object itself stays (empty) until GC.
      if (info[0].IsExternal()) {
        auto* h = info[0].As<Napi::External<Handle>>().Data();
        if (h != nullptr && h->kind == Kind::Tensor) static_cast<TensorHandle*>(h)->tensor.reset();
      }
      return Nothing(info);
    }),
    OP("handleCount", { return Napi::Number::New(info.Env(), static_cast<double>(TensorHandle::count)); }),
    OP("item", {
      const at::Tensor& x = T(info, 0);
      return Napi::Number::New(info.Env(), x.item().toDouble());
    }),
    // ---- metadata
    OP("shape", { return Shape(info.Env(), T(info, 0).sizes()); }),
    OP("dtype", {
      const at::Tensor& x = T(info, 0);
      int64_t code = CodeFromScalarType(x.scalar_type());
      if (code < 0) return Napi::String::New(info.Env(), c10::toString(x.scalar_type()));
      return Napi::Number::New(info.Env(), static_cast<double>(code));
    }),
    OP("device", { return Napi::String::New(info.Env(), T(info, 0).device().str()); }),
    OP("isContiguous", { return Napi::Boolean::New(info.Env(), T(info, 0).is_contiguous()); }),
    // ---- autograd
    OP("requiresGrad", { return Napi::Boolean::New(info.Env(), T(info, 0).requires_grad()); }),
    OP("setRequiresGrad", {
      T(info, 0).requires_grad_(B(info, 1));
      return Nothing(info);
    }),
    OP("isLeaf", { return Napi::Boolean::New(info.Env(), T(info, 0).is_leaf()); }),
    OP("grad", {
      const at::Tensor& g = T(info, 0).grad();
      if (!g.defined()) return info.Env().Null();
      return Wrap(info, g);
    }),
    OP("zeroGrad", {
      T(info, 0).mutable_grad().reset();
      return Nothing(info);
    }),
    OP("retainGrad", {
      T(info, 0).retain_grad();
      return Nothing(info);
    }),
    OP("backward", {
      // backward(t, grad|null, retainGraph, createGraph)
      c10::optional<at::Tensor> g = OptT(info, 1);
      T(info, 0).backward(g.value_or(at::Tensor()), B(info, 2), B(info, 3));
      return Nothing(info);
    }),
    UNARY("detach", x.detach()),
    UNARY("clone", x.clone()),
    UNARY("contiguous", x.contiguous()),
    OP("to", {
      // to(t, dtype|null, device|null)
      const at::Tensor& x = T(info, 0);
      at::ScalarType dt = IsNil(info, 1) ? x.scalar_type() : DType(info, 1);
      c10::Device dev = IsNil(info, 2) ? x.device() : Dev(info, 2);
      return Wrap(info, x.to(dev, dt));
    }),
    // ---- creation
    OP("zeros", { return Wrap(info, at::zeros(IList(info, 0), Opts(info, 1, 2))); }),
    OP("ones", { return Wrap(info, at::ones(IList(info, 0), Opts(info, 1, 2))); }),
    OP("full", { return Wrap(info, at::full(IList(info, 0), Sc(info, 1), Opts(info, 2, 3))); }),
    OP("empty", { return Wrap(info, at::empty(IList(info, 0), Opts(info, 1, 2))); }),
    OP("zerosLike", { return Wrap(info, at::zeros_like(T(info, 0))); }),
    OP("onesLike", { return Wrap(info, at::ones_like(T(info, 0))); }),
    OP("arange", { return Wrap(info, at::arange(Sc(info, 0), Sc(info, 1), Sc(info, 2), Opts(info, 3, 4))); }),
    OP("linspace", { return Wrap(info, at::linspace(Sc(info, 0), Sc(info, 1), I(info, 2), Opts(info, 3, 4))); }),
    OP("eye", { return Wrap(info, at::eye(I(info, 0), I(info, 1), Opts(info, 2, 3))); }),
    OP("cat", { return Wrap(info, at::cat(TList(info, 0), I(info, 1))); }),
    OP("stack", { return Wrap(info, at::stack(TList(info, 0), I(info, 1))); }),
    OP("where", {
      // where(cond, a, b) with a and b each a tensor or a number
      const at::Tensor& c = T(info, 0);
      bool na = IsNum(info, 1), nb = IsNum(info, 2);
      if (na && nb) return Wrap(info, at::where(c, Sc(info, 1), Sc(info, 2)));
      if (na) return Wrap(info, at::where(c, Sc(info, 1), T(info, 2)));
      if (nb) return Wrap(info, at::where(c, T(info, 1), Sc(info, 2)));
      return Wrap(info, at::where(c, T(info, 1), T(info, 2)));
    }),
    // ---- random, on libtorch's default generator
    OP("rand", { return Wrap(info, at::rand(IList(info, 0), Opts(info, 1, 2))); }),
    OP("randn", { return Wrap(info, at::randn(IList(info, 0), Opts(info, 1, 2))); }),
    OP("randint", { return Wrap(info, at::randint(I(info, 0), I(info, 1), IList(info, 2), Opts(info, 3, 4))); }),
    OP("randperm", { return Wrap(info, at::randperm(I(info, 0), Opts(info, 1, 2))); }),
    UNARY("bernoulli", at::bernoulli(x)),
    OP("multinomial", { return Wrap(info, at::multinomial(T(info, 0), I(info, 1), B(info, 2))); }),
    // ---- views and indexing (libtorch wraps negative dims itself)
    OP("reshape", { return Wrap(info, T(info, 0).reshape(IList(info, 1))); }),
    OP("view", { return Wrap(info, T(info, 0).view(IList(info, 1))); }),
    OP("flatten", { return Wrap(info, T(info, 0).flatten(I(info, 1), I(info, 2))); }),
    OP("permute", { return Wrap(info, T(info, 0).permute(IList(info, 1))); }),
    OP("transpose", { return Wrap(info, T(info, 0).transpose(I(info, 1), I(info, 2))); }),
    UNARY("t", x.t()),
    OP("slice", { return Wrap(info, T(info, 0).slice(I(info, 1), OptI(info, 2), OptI(info, 3), I(info, 4))); }),
    OP("narrow", { return Wrap(info, T(info, 0).narrow(I(info, 1), I(info, 2), I(info, 3))); }),
    OP("select", { return Wrap(info, T(info, 0).select(I(info, 1), I(info, 2))); }),
    OP("indexSelect", { return Wrap(info, T(info, 0).index_select(I(info, 1), T(info, 2))); }),
    OP("gather", { return Wrap(info, T(info, 0).gather(I(info, 1), T(info, 2))); }),
    OP("scatter", {
      const at::Tensor& x = T(info, 0);
      if (IsNum(info, 3)) return Wrap(info, x.scatter(I(info, 1), T(info, 2), Sc(info, 3)));
      return Wrap(info, x.scatter(I(info, 1), T(info, 2), T(info, 3)));
    }),
    OP("maskedFill", {
      const at::Tensor& x = T(info, 0);
      if (IsNum(info, 2)) return Wrap(info, x.masked_fill(T(info, 1), Sc(info, 2)));
      return Wrap(info, x.masked_fill(T(info, 1), T(info, 2)));
    }),
    OP("expand", { return Wrap(info, T(info, 0).expand(IList(info, 1))); }),
    OP("squeeze", {
      const at::Tensor& x = T(info, 0);
      return Wrap(info, IsNil(info, 1) ? x.squeeze() : x.squeeze(I(info, 1)));
    }),
    OP("unsqueeze", { return Wrap(info, T(info, 0).unsqueeze(I(info, 1))); }),
    OP("repeat", { return Wrap(info, T(info, 0).repeat(IList(info, 1))); }),
    OP("flip", { return Wrap(info, T(info, 0).flip(IList(info, 1))); }),
    OP("roll", { return Wrap(info, T(info, 0).roll(IList(info, 1), IList(info, 2))); }),
    OP("chunk", { return WrapList(info.Env(), T(info, 0).chunk(I(info, 1), I(info, 2))); }),
    OP("split", { return WrapList(info.Env(), T(info, 0).split_with_sizes(IList(info, 1), I(info, 2))); }),
    OP("tril", { return Wrap(info, T(info, 0).tril(I(info, 1))); }),
    OP("triu", { return Wrap(info, T(info, 0).triu(I(info, 1))); }),
};

}  // namespace

void RegisterTensor(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
