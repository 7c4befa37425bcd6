#include "common.h"

#include <cmath>

namespace audiotag {

namespace {

struct AddonData {
  Napi::FunctionReference engineError;  // set by setErrorClass() from src/engine/native.ts
};

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

std::string FirstLine(const std::string& s) {
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

Napi::Value Guarded(const Napi::CallbackInfo& info) {
  const auto* op = static_cast<const OpEntry*>(info.Data());
  Napi::Env env = info.Env();
  try {
    return op->fn(info);
  } catch (const c10::Error& e) {
    throw MakeEngineError(env, op->name, e.what_without_backtrace());
  } catch (const Napi::Error& e) {
    // A failed N-API conversion (wrong JS type): node-addon-api already cleared the pending exception.
    throw MakeEngineError(env, op->name, e.Message());
  } catch (const std::exception& e) {
    throw MakeEngineError(env, op->name, e.what());
  }
}

const at::ScalarType kCodes[] = {at::kFloat, at::kDouble, at::kLong, at::kInt,
                                 at::kBool,  at::kByte,   at::kHalf, at::kBFloat16};

TensorHandle* Unwrap(const Napi::Value& v, size_t i) {
  if (!v.IsExternal()) throw ArgError("argument " + std::to_string(i) + " is not a tensor");
  auto* h = v.As<Napi::External<Handle>>().Data();
  if (h == nullptr || h->kind != Kind::Tensor)
    throw ArgError("argument " + std::to_string(i) + " is not a tensor");
  return static_cast<TensorHandle*>(h);
}

}  // namespace

Napi::Error MakeEngineError(Napi::Env env, const std::string& op, const std::string& message) {
  std::string text = op + ": " + FirstLine(message);
  AddonData* d = Data(env);
  if (d != nullptr && !d->engineError.IsEmpty()) {
    // The full libtorch text (without its C++ backtrace) goes along as `details`.
    Napi::Object err = d->engineError.New({Napi::String::New(env, text), Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  return Napi::Error::New(env, text);
}

void Define(Napi::Env env, Napi::Object exports, const OpEntry* ops, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    const OpEntry* op = &ops[k];
    exports.Set(op->name, Napi::Function::New<Guarded>(env, op->name, const_cast<OpEntry*>(op)));
  }
}

at::ScalarType ScalarTypeFromCode(int64_t code) {
  if (code < 0 || code >= static_cast<int64_t>(sizeof(kCodes) / sizeof(kCodes[0])))
    throw ArgError("unknown dtype code " + std::to_string(code));
  return kCodes[code];
}

int64_t CodeFromScalarType(at::ScalarType t) {
  for (size_t k = 0; k < sizeof(kCodes) / sizeof(kCodes[0]); ++k)
    if (kCodes[k] == t) return static_cast<int64_t>(k);
  return -1;
}

const at::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  TensorHandle* h = Unwrap(info[i], i);
  if (!h->tensor.defined()) throw ArgError("tensor used after dispose()");
  return h->tensor;
}

bool IsNil(const Napi::CallbackInfo& info, size_t i) { return info[i].IsUndefined() || info[i].IsNull(); }

c10::optional<at::Tensor> OptT(const Napi::CallbackInfo& info, size_t i) {
  if (IsNil(info, i)) return c10::nullopt;
  return T(info, i);
}

std::vector<at::Tensor> TList(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " is not a tensor list");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    TensorHandle* h = Unwrap(a.Get(k), i);
    if (!h->tensor.defined()) throw ArgError("tensor used after dispose()");
    out.push_back(h->tensor);
  }
  return out;
}

double D(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " is not a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

c10::optional<double> OptD(const Napi::CallbackInfo& info, size_t i) {
  if (IsNil(info, i)) return c10::nullopt;
  return D(info, i);
}

int64_t I(const Napi::CallbackInfo& info, size_t i) {
  double d = D(info, i);
  if (std::floor(d) != d) throw ArgError("argument " + std::to_string(i) + " is not an integer");
  return static_cast<int64_t>(d);
}

c10::optional<int64_t> OptI(const Napi::CallbackInfo& info, size_t i) {
  if (IsNil(info, i)) return c10::nullopt;
  return I(info, i);
}

bool B(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBoolean()) throw ArgError("argument " + std::to_string(i) + " is not a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string S(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw ArgError("argument " + std::to_string(i) + " is not a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> IList(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " is not an integer list");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(i) + " is not an integer list");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

std::vector<double> DList(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " is not a number list");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<double> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(i) + " is not a number list");
    out[k] = v.As<Napi::Number>().DoubleValue();
  }
  return out;
}

at::ScalarType DType(const Napi::CallbackInfo& info, size_t i) { return ScalarTypeFromCode(I(info, i)); }

c10::Device Dev(const Napi::CallbackInfo& info, size_t i) { return c10::Device(S(info, i)); }

at::Scalar Sc(const Napi::CallbackInfo& info, size_t i) {
  double d = D(info, i);
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0)
    return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  // The finalizer frees the libtorch memory if GC collects a handle nobody disposed.
  auto* h = new TensorHandle(std::move(t));
  return Napi::External<Handle>::New(env, h, [](Napi::Env, Handle* p) { delete p; });
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) a.Set(static_cast<uint32_t>(k), Wrap(env, ts[k]));
  return a;
}

Napi::Value Shape(Napi::Env env, at::IntArrayRef sizes) {
  Napi::Array a = Napi::Array::New(env, sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k)
    a.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(sizes[k])));
  return a;
}

// Called once from addon.cc.
void InitAddonData(Napi::Env env) { env.SetInstanceData<AddonData>(new AddonData()); }

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw ArgError("argument 0 is not a class");
  Data(info.Env())->engineError = Napi::Persistent(info[0].As<Napi::Function>());
  return Nothing(info);
}

}  // namespace audiotag
