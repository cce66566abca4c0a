// Precompiled once and reused by every translation unit that needs LibTorch.
#pragma once
#include <torch/script.h>
#include <torch/csrc/autograd/autograd.h>
