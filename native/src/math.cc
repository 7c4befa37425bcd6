// Elementwise math, comparisons, reductions, linear algebra, activations and in-place updates.
#include "common.h"

namespace audiotag {

namespace {

c10::optional<at::Scalar> OptSc(const Napi::CallbackInfo& info, size_t i) {
  if (IsNil(info, i)) return c10::nullopt;
  return at::Scalar(D(info, i));
}

// Binary op whose second operand may be a tensor or a JS number.
#define BINARY(NAME, METHOD) OP(NAME, {                                       \
  const at::Tensor& x = T(info, 0);                                           \
  return Wrap(info, IsNum(info, 1) ? x.METHOD(Sc(info, 1)) : x.METHOD(T(info, 1))); \
})

// Reductions over an optional list of dims (null = every dim).
at::Tensor SumLike(const at::Tensor& x, const Napi::CallbackInfo& info, bool mean) {
  bool keepdim = B(info, 2);
  if (IsNil(info, 1)) {
    if (!keepdim) return mean ? x.mean() : x.sum();
    std::vector<int64_t> all(x.dim());
    for (int64_t d = 0; d < x.dim(); ++d) all[d] = d;
    return mean ? x.mean(all, true) : x.sum(all, true);
  }
  std::vector<int64_t> dims = IList(info, 1);
  return mean ? x.mean(dims, keepdim) : x.sum(dims, keepdim);
}

// max/min: values only. With a dim the gradient goes to the chosen index, as PyTorch's x.max(dim).
at::Tensor MaxMin(const at::Tensor& x, const Napi::CallbackInfo& info, bool isMax) {
  bool keepdim = B(info, 2);
  if (IsNil(info, 1)) {
    if (!keepdim) return isMax ? x.max() : x.min();
    return isMax ? x.amax(at::IntArrayRef{}, true) : x.amin(at::IntArrayRef{}, true);
  }
  int64_t dim = I(info, 1);
  return std::get<0>(isMax ? x.max(dim, keepdim) : x.min(dim, keepdim));
}

at::Tensor VarStd(const at::Tensor& x, const Napi::CallbackInfo& info, bool isStd) {
  // var/std(x, dims|null, unbiased, keepdim)
  bool unbiased = B(info, 2), keepdim = B(info, 3);
  if (IsNil(info, 1)) {
    if (!keepdim) return isStd ? x.std(unbiased) : x.var(unbiased);
    return isStd ? at::std(x, at::OptionalIntArrayRef(c10::nullopt), unbiased, true)
                 : at::var(x, at::OptionalIntArrayRef(c10::nullopt), unbiased, true);
  }
  std::vector<int64_t> dims = IList(info, 1);
  return isStd ? at::std(x, at::OptionalIntArrayRef(dims), unbiased, keepdim)
               : at::var(x, at::OptionalIntArrayRef(dims), unbiased, keepdim);
}

const OpEntry kOps[] = {
    // ---- elementwise
    OP("add", {
      const at::Tensor& x = T(info, 0);
      at::Scalar alpha = Sc(info, 2);
      return Wrap(info, IsNum(info, 1) ? x.add(Sc(info, 1), alpha) : x.add(T(info, 1), alpha));
    }),
    OP("sub", {
      const at::Tensor& x = T(info, 0);
      at::Scalar alpha = Sc(info, 2);
      return Wrap(info, IsNum(info, 1) ? x.sub(Sc(info, 1), alpha) : x.sub(T(info, 1), alpha));
    }),
    OP("rsub", { return Wrap(info, at::rsub(T(info, 0), Sc(info, 1))); }),
    BINARY("mul", mul),
    BINARY("div", div),
    BINARY("pow", pow),
    BINARY("remainder", remainder),
    BINARY("eq", eq),
    BINARY("ne", ne),
    BINARY("lt", lt),
    BINARY("le", le),
    BINARY("gt", gt),
    BINARY("ge", ge),
    OP("maximum", { return Wrap(info, at::maximum(T(info, 0), T(info, 1))); }),
    OP("minimum", { return Wrap(info, at::minimum(T(info, 0), T(info, 1))); }),
    OP("logicalAnd", { return Wrap(info, T(info, 0).logical_and(T(info, 1))); }),
    OP("logicalOr", { return Wrap(info, T(info, 0).logical_or(T(info, 1))); }),
    OP("atan2", { return Wrap(info, T(info, 0).atan2(T(info, 1))); }),
    UNARY("neg", x.neg()),
    UNARY("exp", x.exp()),
    UNARY("log", x.log()),
    UNARY("log1p", x.log1p()),
    UNARY("sqrt", x.sqrt()),
    UNARY("rsqrt", x.rsqrt()),
    UNARY("abs", x.abs()),
    UNARY("sign", x.sign()),
    UNARY("sin", x.sin()),
    UNARY("cos", x.cos()),
    UNARY("floor", x.floor()),
    UNARY("ceil", x.ceil()),
    UNARY("round", x.round()),
    UNARY("reciprocal", x.reciprocal()),
    UNARY("square", x.square()),
    UNARY("logicalNot", x.logical_not()),
    UNARY("isnan", x.isnan()),
    UNARY("isfinite", x.isfinite()),
    OP("clamp", { return Wrap(info, T(info, 0).clamp(OptSc(info, 1), OptSc(info, 2))); }),
    // ---- reductions
    OP("sum", { return Wrap(info, SumLike(T(info, 0), info, false)); }),
    OP("mean", { return Wrap(info, SumLike(T(info, 0), info, true)); }),
    OP("prod", {
      const at::Tensor& x = T(info, 0);
      if (IsNil(info, 1)) return Wrap(info, B(info, 2) ? x.reshape({-1}).prod(0).reshape(std::vector<int64_t>(x.dim(), 1)) : x.prod());
      return Wrap(info, x.prod(I(info, 1), B(info, 2)));
    }),
    OP("max", { return Wrap(info, MaxMin(T(info, 0), info, true)); }),
    OP("min", { return Wrap(info, MaxMin(T(info, 0), info, false)); }),
    OP("argmax", { return Wrap(info, T(info, 0).argmax(OptI(info, 1), B(info, 2))); }),
    OP("argmin", { return Wrap(info, T(info, 0).argmin(OptI(info, 1), B(info, 2))); }),
    OP("logsumexp", { return Wrap(info, T(info, 0).logsumexp(IList(info, 1), B(info, 2))); }),
    OP("var", { return Wrap(info, VarStd(T(info, 0), info, false)); }),
    OP("std", { return Wrap(info, VarStd(T(info, 0), info, true)); }),
    OP("norm", {
      // norm(x, p, dims|null, keepdim)
      const at::Tensor& x = T(info, 0);
      at::Scalar p(D(info, 1));
      if (IsNil(info, 2)) {
        if (!B(info, 3)) return Wrap(info, x.norm(p));
        std::vector<int64_t> all(x.dim());
        for (int64_t d = 0; d < x.dim(); ++d) all[d] = d;
        return Wrap(info, x.norm(p, all, true));
      }
      return Wrap(info, x.norm(p, IList(info, 2), B(info, 3)));
    }),
    OP("topk", {
      auto r = T(info, 0).topk(I(info, 1), I(info, 2), B(info, 3), B(info, 4));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
    }),
    OP("sort", {
      auto r = T(info, 0).sort(I(info, 1), B(info, 2));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
    }),
    OP("cumsum", { return Wrap(info, T(info, 0).cumsum(I(info, 1))); }),
    OP("any", { return Wrap(info, IsNil(info, 1) ? T(info, 0).any() : T(info, 0).any(I(info, 1), B(info, 2))); }),
    OP("all", { return Wrap(info, IsNil(info, 1) ? T(info, 0).all() : T(info, 0).all(I(info, 1), B(info, 2))); }),
    // ---- linear algebra
    OP("matmul", { return Wrap(info, T(info, 0).matmul(T(info, 1))); }),
    OP("bmm", { return Wrap(info, T(info, 0).bmm(T(info, 1))); }),
    OP("outer", { return Wrap(info, T(info, 0).outer(T(info, 1))); }),
    // ---- activations
    OP("softmax", { return Wrap(info, T(info, 0).softmax(I(info, 1))); }),
    OP("logSoftmax", { return Wrap(info, T(info, 0).log_softmax(I(info, 1))); }),
    UNARY("sigmoid", x.sigmoid()),
    UNARY("logSigmoid", at::log_sigmoid(x)),
    UNARY("relu", x.relu()),
    UNARY("tanh", x.tanh()),
    UNARY("silu", at::silu(x)),
    OP("gelu", { return Wrap(info, at::gelu(T(info, 0), S(info, 1))); }),
    OP("leakyRelu", { return Wrap(info, at::leaky_relu(T(info, 0), Sc(info, 1))); }),
    OP("elu", { return Wrap(info, at::elu(T(info, 0), Sc(info, 1))); }),
    OP("prelu", { return Wrap(info, at::prelu(T(info, 0), T(info, 1))); }),
    OP("softplus", { return Wrap(info, at::softplus(T(info, 0), Sc(info, 1), Sc(info, 2))); }),
    OP("hardtanh", { return Wrap(info, at::hardtanh(T(info, 0), Sc(info, 1), Sc(info, 2))); }),
    // ---- in place (the JS wrapper returns `this`)
    OP("copy_", {
      T(info, 0).copy_(T(info, 1));
      return Nothing(info);
    }),
    OP("fill_", {
      T(info, 0).fill_(Sc(info, 1));
      return Nothing(info);
    }),
    OP("zero_", {
      T(info, 0).zero_();
      return Nothing(info);
    }),
    OP("mul_", {
      const at::Tensor& x = T(info, 0);
      if (IsNum(info, 1)) x.mul_(Sc(info, 1));
      else x.mul_(T(info, 1));
      return Nothing(info);
    }),
    OP("add_", {
      const at::Tensor& x = T(info, 0);
      if (IsNum(info, 1)) x.add_(Sc(info, 1), Sc(info, 2));
      else x.add_(T(info, 1), Sc(info, 2));
      return Nothing(info);
    }),
    OP("clamp_", {
      T(info, 0).clamp_(OptSc(info, 1), OptSc(info, 2));
      return Nothing(info);
    }),
    OP("uniform_", {
      T(info, 0).uniform_(D(info, 1), D(info, 2));
      return Nothing(info);
    }),
    OP("normal_", {
      T(info, 0).normal_(D(info, 1), D(info, 2));
      return Nothing(info);
    }),
};

}  // namespace

void RegisterMath(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
