// Precompiled header: the libtorch and N-API headers every translation unit needs. Parsing these is
// most of the compile time, so the Makefile compiles this once into pch.h.gch.
#ifndef AUDIOTAG_PCH_H
#define AUDIOTAG_PCH_H

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/optim.h>
#include <torch/serialize.h>
#include <torch/version.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/utils/clip_grad.h>

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#endif  // AUDIOTAG_PCH_H
