// libtorch's own optimisers (torch::optim), so an update here equals PyTorch's, plus clipGradNorm.
#include "common.h"

namespace audiotag {

namespace {

enum class OptKind : int64_t { SGD = 0, Adam = 1, AdamW = 2 };

struct OptimizerHandle : Handle {
  OptimizerHandle() : Handle(Kind::Optimizer) {}
  OptKind type = OptKind::SGD;
  std::unique_ptr<torch::optim::Optimizer> opt;  // null after dispose()
};

OptimizerHandle* Opt(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsExternal()) {
    auto* h = info[i].As<Napi::External<Handle>>().Data();
    if (h != nullptr && h->kind == Kind::Optimizer) {
      auto* o = static_cast<OptimizerHandle*>(h);
      if (!o->opt) throw ArgError("optimizer used after dispose()");
      return o;
    }
  }
  throw ArgError("argument " + std::to_string(i) + " is not an optimizer");
}

double Num(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw ArgError(std::string("option '") + key + "' is not a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool Bool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw ArgError(std::string("option '") + key + "' is not a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::unique_ptr<torch::optim::OptimizerOptions> MakeOptions(OptKind type, const Napi::Object& o) {
  switch (type) {
    case OptKind::SGD:
      return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(Num(o, "lr"))
                                                            .momentum(Num(o, "momentum"))
                                                            .dampening(Num(o, "dampening"))
                                                            .weight_decay(Num(o, "weightDecay"))
                                                            .nesterov(Bool(o, "nesterov")));
    case OptKind::Adam:
      return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(Num(o, "lr"))
                                                             .betas(std::make_tuple(Num(o, "beta1"), Num(o, "beta2")))
                                                             .eps(Num(o, "eps"))
                                                             .weight_decay(Num(o, "weightDecay"))
                                                             .amsgrad(Bool(o, "amsgrad")));
    case OptKind::AdamW:
      return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(Num(o, "lr"))
                                                              .betas(std::make_tuple(Num(o, "beta1"), Num(o, "beta2")))
                                                              .eps(Num(o, "eps"))
                                                              .weight_decay(Num(o, "weightDecay"))
                                                              .amsgrad(Bool(o, "amsgrad")));
  }
  throw ArgError("unknown optimizer kind");
}

// optimCreate(kind, groups: [{ params: handle[], options: {...} }]): every group carries complete
// options (TS merges group overrides into the defaults), so the constructor defaults never apply.
Napi::Value Create(const Napi::CallbackInfo& info) {
  int64_t k = I(info, 0);
  if (k < 0 || k > 2) throw ArgError("unknown optimizer kind " + std::to_string(k));
  auto type = static_cast<OptKind>(k);
  if (!info[1].IsArray()) throw ArgError("argument 1 is not a list of parameter groups");
  Napi::Array groups = info[1].As<Napi::Array>();
  if (groups.Length() == 0) throw ArgError("no parameter groups");
  std::vector<torch::optim::OptimizerParamGroup> pgs;
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Napi::Object grp = groups.Get(g).As<Napi::Object>();
    Napi::Array ps = grp.Get("params").As<Napi::Array>();
    std::vector<at::Tensor> params;
    for (uint32_t j = 0; j < ps.Length(); ++j) {
      Napi::Value v = ps.Get(j);
      if (!v.IsExternal() || v.As<Napi::External<Handle>>().Data()->kind != Kind::Tensor)
        throw ArgError("group " + std::to_string(g) + " param " + std::to_string(j) + " is not a tensor");
      const at::Tensor& t = static_cast<TensorHandle*>(v.As<Napi::External<Handle>>().Data())->tensor;
      if (!t.defined()) throw ArgError("tensor used after dispose()");
      params.push_back(t);
    }
    pgs.emplace_back(std::move(params), MakeOptions(type, grp.Get("options").As<Napi::Object>()));
  }
  auto h = std::make_unique<OptimizerHandle>();
  h->type = type;
  // The constructors validate their defaults (lr >= 0, nesterov needs momentum...), so pass group 0's.
  Napi::Object first = groups.Get(0u).As<Napi::Object>().Get("options").As<Napi::Object>();
  switch (type) {
    case OptKind::SGD:
      h->opt = std::make_unique<torch::optim::SGD>(
          pgs, static_cast<torch::optim::SGDOptions&>(*MakeOptions(type, first)));
      break;
    case OptKind::Adam:
      h->opt = std::make_unique<torch::optim::Adam>(
          pgs, static_cast<torch::optim::AdamOptions&>(*MakeOptions(type, first)));
      break;
    case OptKind::AdamW:
      h->opt = std::make_unique<torch::optim::AdamW>(
          pgs, static_cast<torch::optim::AdamWOptions&>(*MakeOptions(type, first)));
      break;
  }
  return Napi::External<Handle>::New(info.Env(), h.release(), [](Napi::Env, Handle* p) { delete p; });
}

template <typename Options>
void RestoreOptions(torch::serialize::InputArchive& archive, torch::optim::Optimizer& opt) {
  // torch::optim's load() restores per-parameter state only; PyTorch's load_state_dict also
  // restores the group hyper-parameters (lr...), so read those back from the same archive.
  torch::serialize::InputArchive groups;
  archive.read("param_groups", groups);
  at::Tensor n;
  groups.read("param_groups/size", n);
  int64_t count = n.item<int64_t>();
  TORCH_CHECK(count == static_cast<int64_t>(opt.param_groups().size()),
              "the saved state has ", count, " parameter groups, this optimizer has ", opt.param_groups().size());
  for (int64_t g = 0; g < count; ++g) {
    torch::serialize::InputArchive group, options;
    groups.read("param_groups/" + std::to_string(g), group);
    group.read("options", options);
    Options o(0);
    o.serialize(options);
    opt.param_groups()[g].set_options(std::make_unique<Options>(o));
  }
}

const OpEntry kOps[] = {
    {"optimCreate", Create},
    OP("optimStep", {
      Opt(info, 0)->opt->step();
      return Nothing(info);
    }),
    OP("optimZeroGrad", {
      // grad = None (PyTorch 2's default): frees the gradient memory between steps.
      for (auto& g : Opt(info, 0)->opt->param_groups())
        for (auto& p : g.params()) p.mutable_grad().reset();
      return Nothing(info);
    }),
    OP("optimNumGroups", {
      return Napi::Number::New(info.Env(), static_cast<double>(Opt(info, 0)->opt->param_groups().size()));
    }),
    OP("optimGetLr", {
      auto& groups = Opt(info, 0)->opt->param_groups();
      int64_t g = I(info, 1);
      if (g < 0 || g >= static_cast<int64_t>(groups.size())) throw ArgError("no parameter group " + std::to_string(g));
      return Napi::Number::New(info.Env(), groups[g].options().get_lr());
    }),
    OP("optimSetLr", {
      auto& groups = Opt(info, 0)->opt->param_groups();
      int64_t g = I(info, 1);
      if (g < 0 || g >= static_cast<int64_t>(groups.size())) throw ArgError("no parameter group " + std::to_string(g));
      groups[g].options().set_lr(D(info, 2));
      return Nothing(info);
    }),
    OP("optimStateBytes", {
      torch::serialize::OutputArchive archive;
      Opt(info, 0)->opt->save(archive);
      std::string bytes;
      archive.save_to([&bytes](const void* data, size_t n) -> size_t {
        bytes.append(static_cast<const char*>(data), n);
        return n;
      });
      Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(info.Env(), bytes.size());
      std::memcpy(buf.Data(), bytes.data(), bytes.size());
      return buf;
    }),
    OP("optimLoadStateBytes", {
      OptimizerHandle* h = Opt(info, 0);
      if (!info[1].IsTypedArray()) throw ArgError("argument 1 is not a Uint8Array");
      Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
      const char* data = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      torch::serialize::InputArchive archive;
      archive.load_from(data, ta.ByteLength());
      h->opt->load(archive);
      switch (h->type) {
        case OptKind::SGD: RestoreOptions<torch::optim::SGDOptions>(archive, *h->opt); break;
        case OptKind::Adam: RestoreOptions<torch::optim::AdamOptions>(archive, *h->opt); break;
        case OptKind::AdamW: RestoreOptions<torch::optim::AdamWOptions>(archive, *h->opt); break;
      }
      return Nothing(info);
    }),
    OP("optimDispose", {
      if (info[0].IsExternal()) {
        auto* h = info[0].As<Napi::External<Handle>>().Data();
        if (h != nullptr && h->kind == Kind::Optimizer) static_cast<OptimizerHandle*>(h)->opt.reset();
      }
      return Nothing(info);
    }),
    OP("clipGradNorm", {
      // Returns the total norm before clipping, like torch.nn.utils.clip_grad_norm_.
      return Napi::Number::New(info.Env(), torch::nn::utils::clip_grad_norm_(TList(info, 0), D(info, 1), D(info, 2)));
    }),
};

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
