// Shared plumbing of the addon: tensor handles, argument readers and the error-converting op table.
// The addon is deliberately thin: argument defaults and validation live in src/engine/*.ts, so the
// readers here only convert JS values to libtorch types (and fail cleanly when TS did not).
#pragma once

#include "pch.h"

namespace audiotag {

// Every JS handle is a Napi::External<Handle>; `kind` tells tensor handles from optimiser handles,
// so a wrong handle gives an error instead of a bad cast.
enum class Kind : uint32_t { Tensor = 0x7e45u, Optimizer = 0x0971u };

struct Handle {
  explicit Handle(Kind k) : kind(k) {}
  virtual ~Handle() = default;
  Kind kind;
};

struct TensorHandle : Handle {
  explicit TensorHandle(at::Tensor t) : Handle(Kind::Tensor), tensor(std::move(t)) { ++count; }
  ~TensorHandle() override { --count; }
  at::Tensor tensor;  // undefined after dispose(): the libtorch memory is released at that moment
  // Handle objects not yet collected by GC (disposed or not); tests use it to see the finalizer work.
  static inline int64_t count = 0;
};

// ---- op table: every exported function runs inside a guard that turns C++ exceptions into
// EngineError("<op>: <first line of the libtorch message>") so libtorch never aborts the process.
using OpFn = Napi::Value (*)(const Napi::CallbackInfo&);
struct OpEntry {
  const char* name;
  OpFn fn;
};
void Define(Napi::Env env, Napi::Object exports, const OpEntry* ops, size_t n);
template <size_t N>
inline void Define(Napi::Env env, Napi::Object exports, const OpEntry (&ops)[N]) {
  Define(env, exports, ops, N);
}
// Builds the JS EngineError (the class registered from TS) as a throwable Napi::Error.
Napi::Error MakeEngineError(Napi::Env env, const std::string& op, const std::string& message);
// Thrown by the readers below; the guard adds the op name.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- dtype codes shared with src/engine/dtype.ts (keep the order in sync)
at::ScalarType ScalarTypeFromCode(int64_t code);
int64_t CodeFromScalarType(at::ScalarType t);  // -1 when the dtype has no code (complex...)

// ---- argument readers (i = argument index)
const at::Tensor& T(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> OptT(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> TList(const Napi::CallbackInfo& info, size_t i);
bool IsNil(const Napi::CallbackInfo& info, size_t i);
double D(const Napi::CallbackInfo& info, size_t i);
c10::optional<double> OptD(const Napi::CallbackInfo& info, size_t i);
int64_t I(const Napi::CallbackInfo& info, size_t i);
c10::optional<int64_t> OptI(const Napi::CallbackInfo& info, size_t i);
bool B(const Napi::CallbackInfo& info, size_t i);
std::string S(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> IList(const Napi::CallbackInfo& info, size_t i);
std::vector<double> DList(const Napi::CallbackInfo& info, size_t i);
at::ScalarType DType(const Napi::CallbackInfo& info, size_t i);
c10::Device Dev(const Napi::CallbackInfo& info, size_t i);
// A JS number as a libtorch Scalar: integral values become integer scalars so that an int tensor
// plus 2 stays an int tensor, as `x + 2` does in PyTorch.
at::Scalar Sc(const Napi::CallbackInfo& info, size_t i);
inline bool IsNum(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNumber(); }

// ---- results
Napi::Value Wrap(Napi::Env env, at::Tensor t);
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);
inline Napi::Value Wrap(const Napi::CallbackInfo& info, at::Tensor t) { return Wrap(info.Env(), std::move(t)); }
inline Napi::Value Nothing(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value Shape(Napi::Env env, at::IntArrayRef sizes);

// The per-file registration functions called from addon.cc.
void RegisterTensor(Napi::Env env, Napi::Object exports);
void RegisterMath(Napi::Env env, Napi::Object exports);
void RegisterNN(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterPerf(Napi::Env env, Napi::Object exports);
void RegisterAllocator(Napi::Env env, Napi::Object exports);

}  // namespace audiotag

// Compact op definitions: OP("name", { body using `info` }) is a capture-less lambda.
#define OP(NAME, ...) \
  { NAME, [](const Napi::CallbackInfo& info) -> Napi::Value __VA_ARGS__ }
// A unary tensor op: UNARY("exp", x.exp()).
#define UNARY(NAME, EXPR) OP(NAME, {                   \
  const at::Tensor& x = ::audiotag::T(info, 0);       \
  return ::audiotag::Wrap(info, EXPR);                 \
})
