// Winograd 3×3 convolutions through oneDNN (winograd.cc): a process-wide switch and the conv2d hook.
#pragma once

#include "pch.h"

namespace audiotag {

// Fewest 4×4 output tiles (batch × ⌈H/4⌉ × ⌈W/4⌉) for which Winograd is used (bench/README.md,
// "Winograd"): in training the kernels pay from 128 tiles up; the inference kernels transform the weights
// on every call, which small problems do not repay.
constexpr int64_t kWinogradMinTilesTraining = 64;
constexpr int64_t kWinogradMinTilesInference = 512;

int ConvAlgorithmFromEnv();       // AUDIOTAG_CONV_ALGORITHM=winograd → 1, else 0
bool ConvAlgorithmFixedByEnv();   // the variable is set: SetConvAlgorithm leaves the choice alone
void SetConvAlgorithm(bool winograd);
bool ConvAlgorithmIsWinograd();

// y = conv2d(x, w, b) by Winograd when it is on and applies to these arguments (with autograd), else
// nullopt: the caller runs libtorch's own convolution.
c10::optional<at::Tensor> WinogradConv2d(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                                         at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                                         int64_t groups);

}  // namespace audiotag
