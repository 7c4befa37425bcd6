// nn functional ops, losses, recurrent layers and spectral transforms. Arguments arrive complete
// (src/engine/functional.ts fills every default), in the order libtorch takes them.
#include "common.h"
#include "winograd.h"

namespace audiotag {

namespace F = torch::nn::functional;

namespace {

at::Tensor Conv(const Napi::CallbackInfo& info, int dims) {
  // conv(x, w, b|null, stride[], padding[] | 'same' | 'valid', dilation[], groups)
  const at::Tensor& x = T(info, 0);
  const at::Tensor& w = T(info, 1);
  c10::optional<at::Tensor> b = OptT(info, 2);
  std::vector<int64_t> stride = IList(info, 3), dilation = IList(info, 5);
  int64_t groups = I(info, 6);
  if (info[4].IsString()) {
    std::string pad = S(info, 4);
    return dims == 1 ? at::conv1d(x, w, b, stride, pad, dilation, groups)
                     : at::conv2d(x, w, b, stride, pad, dilation, groups);
  }
  std::vector<int64_t> padding = IList(info, 4);
  if (dims == 2) {
    if (auto y = WinogradConv2d(x, w, b, stride, padding, dilation, groups)) return *y;
  }
  return dims == 1 ? at::conv1d(x, w, b, stride, padding, dilation, groups)
                   : at::conv2d(x, w, b, stride, padding, dilation, groups);
}

at::Tensor ConvTranspose(const Napi::CallbackInfo& info, int dims) {
  // convTranspose(x, w, b|null, stride[], padding[], outputPadding[], groups, dilation[])
  const at::Tensor& x = T(info, 0);
  const at::Tensor& w = T(info, 1);
  c10::optional<at::Tensor> b = OptT(info, 2);
  std::vector<int64_t> stride = IList(info, 3), padding = IList(info, 4), outPad = IList(info, 5),
                       dilation = IList(info, 7);
  int64_t groups = I(info, 6);
  return dims == 1 ? at::conv_transpose1d(x, w, b, stride, padding, outPad, groups, dilation)
                   : at::conv_transpose2d(x, w, b, stride, padding, outPad, groups, dilation);
}

F::InterpolateFuncOptions::mode_t InterpMode(const std::string& m) {
  if (m == "nearest") return torch::kNearest;
  if (m == "linear") return torch::kLinear;
  if (m == "bilinear") return torch::kBilinear;
  if (m == "bicubic") return torch::kBicubic;
  if (m == "area") return torch::kArea;
  if (m == "nearest-exact") return torch::kNearestExact;
  throw ArgError("unknown interpolation mode '" + m + "'");
}

F::PadFuncOptions::mode_t PadMode(const std::string& m) {
  if (m == "constant") return torch::kConstant;
  if (m == "reflect") return torch::kReflect;
  if (m == "replicate") return torch::kReplicate;
  if (m == "circular") return torch::kCircular;
  throw ArgError("unknown padding mode '" + m + "'");
}

c10::optional<c10::string_view> OptStr(const Napi::CallbackInfo& info, size_t i, std::string& storage) {
  if (IsNil(info, i)) return c10::nullopt;
  storage = S(info, i);
  return c10::string_view(storage);
}

const OpEntry kOps[] = {
    OP("conv1d", { return Wrap(info, Conv(info, 1)); }),
    OP("conv2d", { return Wrap(info, Conv(info, 2)); }),
    OP("setConvAlgorithm", {
      std::string a = S(info, 0);
      if (a != "winograd" && a != "direct") throw ArgError("conv algorithm must be 'winograd' or 'direct', got '" + a + "'");
      SetConvAlgorithm(a == "winograd");
      return Nothing(info);
    }),
    OP("getConvAlgorithm", { return Napi::String::New(info.Env(), ConvAlgorithmIsWinograd() ? "winograd" : "direct"); }),
    OP("convTranspose1d", { return Wrap(info, ConvTranspose(info, 1)); }),
    OP("convTranspose2d", { return Wrap(info, ConvTranspose(info, 2)); }),
    OP("batchNorm", {
      // batchNorm(x, runningMean|null, runningVar|null, weight|null, bias|null, training, momentum, eps);
      // in training mode libtorch updates the running stats in place.
      return Wrap(info, at::batch_norm(T(info, 0), OptT(info, 3), OptT(info, 4), OptT(info, 1), OptT(info, 2),
                                       B(info, 5), D(info, 6), D(info, 7), true));
    }),
    OP("layerNorm", {
      return Wrap(info, at::layer_norm(T(info, 0), IList(info, 1), OptT(info, 2), OptT(info, 3), D(info, 4)));
    }),
    OP("groupNorm", {
      return Wrap(info, at::group_norm(T(info, 0), I(info, 1), OptT(info, 2), OptT(info, 3), D(info, 4)));
    }),
    OP("dropout", { return Wrap(info, at::dropout(T(info, 0), D(info, 1), B(info, 2))); }),
    // Zeroes whole channels: PyTorch's dropout2d is feature_dropout.
    OP("dropout2d", { return Wrap(info, at::feature_dropout(T(info, 0), D(info, 1), B(info, 2))); }),
    // pools: (x, kernel[], stride[], padding[], dilation[], ceilMode)
    OP("maxPool1d", {
      return Wrap(info, at::max_pool1d(T(info, 0), IList(info, 1), IList(info, 2), IList(info, 3), IList(info, 4),
                                       B(info, 5)));
    }),
    OP("maxPool2d", {
      return Wrap(info, at::max_pool2d(T(info, 0), IList(info, 1), IList(info, 2), IList(info, 3), IList(info, 4),
                                       B(info, 5)));
    }),
    // (x, kernel[], stride[], padding[], ceilMode, countIncludePad[, divisorOverride|null])
    OP("avgPool1d", {
      return Wrap(info, at::avg_pool1d(T(info, 0), IList(info, 1), IList(info, 2), IList(info, 3), B(info, 4),
                                       B(info, 5)));
    }),
    OP("avgPool2d", {
      return Wrap(info, at::avg_pool2d(T(info, 0), IList(info, 1), IList(info, 2), IList(info, 3), B(info, 4),
                                       B(info, 5), OptI(info, 6)));
    }),
    OP("adaptiveAvgPool1d", { return Wrap(info, at::adaptive_avg_pool1d(T(info, 0), IList(info, 1))); }),
    OP("adaptiveAvgPool2d", { return Wrap(info, at::adaptive_avg_pool2d(T(info, 0), IList(info, 1))); }),
    OP("adaptiveMaxPool1d", { return Wrap(info, std::get<0>(at::adaptive_max_pool1d(T(info, 0), IList(info, 1)))); }),
    OP("adaptiveMaxPool2d", { return Wrap(info, std::get<0>(at::adaptive_max_pool2d(T(info, 0), IList(info, 1)))); }),
    OP("linear", { return Wrap(info, at::linear(T(info, 0), T(info, 1), OptT(info, 2))); }),
    OP("embedding", {
      // embedding(indices, weight, paddingIdx)
      return Wrap(info, at::embedding(T(info, 1), T(info, 0), I(info, 2)));
    }),
    OP("interpolate", {
      // interpolate(x, size[]|null, scaleFactor[]|null, mode, alignCorners|null)
      auto o = F::InterpolateFuncOptions().mode(InterpMode(S(info, 3)));
      if (!IsNil(info, 1)) o.size(IList(info, 1));
      if (!IsNil(info, 2)) o.scale_factor(DList(info, 2));
      if (!IsNil(info, 4)) o.align_corners(B(info, 4));
      return Wrap(info, F::interpolate(T(info, 0), o));
    }),
    OP("pad", {
      // pad(x, pads[], mode, value)
      auto o = F::PadFuncOptions(IList(info, 1)).mode(PadMode(S(info, 2))).value(D(info, 3));
      return Wrap(info, F::pad(T(info, 0), o));
    }),
    OP("gru", {
      // gru(x, hx, params[], hasBiases, numLayers, dropout, training, bidirectional, batchFirst) -> [out, h]
      auto r = at::gru(T(info, 0), T(info, 1), TList(info, 2), B(info, 3), I(info, 4), D(info, 5), B(info, 6),
                       B(info, 7), B(info, 8));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
    }),
    OP("lstm", {
      // lstm(x, [h, c], params[], ...same...) -> [out, h, c]
      auto r = at::lstm(T(info, 0), TList(info, 1), TList(info, 2), B(info, 3), I(info, 4), D(info, 5), B(info, 6),
                        B(info, 7), B(info, 8));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
    }),
    // ---- losses; reduction codes follow at::Reduction (0 none, 1 mean, 2 sum)
    OP("crossEntropy", {
      // crossEntropy(logits, target, weight|null, reduction, ignoreIndex, labelSmoothing); a float
      // target of the logits' shape is read as class probabilities.
      return Wrap(info, at::cross_entropy_loss(T(info, 0), T(info, 1), OptT(info, 2), I(info, 3), I(info, 4),
                                               D(info, 5)));
    }),
    OP("nllLoss", {
      return Wrap(info, at::nll_loss_nd(T(info, 0), T(info, 1), OptT(info, 2), I(info, 3), I(info, 4)));
    }),
    OP("binaryCrossEntropyWithLogits", {
      // (logits, target, weight|null, posWeight|null, reduction)
      return Wrap(info, at::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), OptT(info, 2), OptT(info, 3),
                                                             I(info, 4)));
    }),
    OP("binaryCrossEntropy", {
      return Wrap(info, at::binary_cross_entropy(T(info, 0), T(info, 1), OptT(info, 2), I(info, 3)));
    }),
    OP("mseLoss", { return Wrap(info, at::mse_loss(T(info, 0), T(info, 1), I(info, 2))); }),
    OP("l1Loss", { return Wrap(info, at::l1_loss(T(info, 0), T(info, 1), I(info, 2))); }),
    OP("smoothL1Loss", { return Wrap(info, at::smooth_l1_loss(T(info, 0), T(info, 1), I(info, 2), D(info, 3))); }),
    OP("klDiv", { return Wrap(info, at::kl_div(T(info, 0), T(info, 1), I(info, 2), B(info, 3))); }),
    // ---- spectral; complex results travel as real tensors with a trailing dim of 2
    OP("stft", {
      // stft(x, nFft, hop|null, win|null, window|null, center, padMode, normalized, onesided|null)
      std::string padMode = S(info, 6);
      at::Tensor z = at::stft(T(info, 0), I(info, 1), OptI(info, 2), OptI(info, 3), OptT(info, 4), B(info, 5),
                              padMode, B(info, 7), c10::optional<bool>(IsNil(info, 8) ? c10::nullopt
                                                                                       : c10::optional<bool>(B(info, 8))),
                              true);
      return Wrap(info, at::view_as_real(z));
    }),
    OP("istft", {
      // istft(x[..., 2], nFft, hop|null, win|null, window|null, center, normalized, onesided|null, length|null)
      at::Tensor z = at::view_as_complex(T(info, 0).contiguous());
      c10::optional<bool> onesided = IsNil(info, 7) ? c10::nullopt : c10::optional<bool>(B(info, 7));
      return Wrap(info, at::istft(z, I(info, 1), OptI(info, 2), OptI(info, 3), OptT(info, 4), B(info, 5), B(info, 6),
                                  onesided, OptI(info, 8), false));
    }),
    OP("rfft", {
      // rfft(x, n|null, dim, norm|null)
      std::string norm;
      return Wrap(info, at::view_as_real(at::fft_rfft(T(info, 0), OptI(info, 1), I(info, 2), OptStr(info, 3, norm))));
    }),
    OP("irfft", {
      std::string norm;
      at::Tensor z = at::view_as_complex(T(info, 0).contiguous());
      return Wrap(info, at::fft_irfft(z, OptI(info, 1), I(info, 2), OptStr(info, 3, norm)));
    }),
};

}  // namespace

void RegisterNN(Napi::Env env, Napi::Object exports) { Define(env, exports, kOps); }

}  // namespace audiotag
