#pragma once
// Feature visualization (activation maximization): an input image optimized so that a unit of
// the model responds strongly — a channel's mean activation, one neuron, a class logit or a
// direction in a layer's channel space. The parameterizations, transforms and defaults are
// Lucid/Lucent's (Olah et al. 2017): an FFT-parameterized, colour-decorrelated image behind a
// sigmoid, 512 steps of Adam at lr 0.05, a random pad / jitter / scale / rotate / jitter stack
// each step, and for dead units the redirected ReLU for the first steps. Gradients reach the
// image through the same tapped graphs as every other method (model::Model::forward).
// No GL, no threads, no I/O. This header includes LibTorch.
#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "explain/explain.h"
#include "model/model.h"

namespace camscope::explain {

struct OptvisRequest {
  enum class Objective { Channel, Neuron, Class, Direction };
  enum class Param { Fft, Pixel };
  Objective objective = Objective::Channel;
  std::string layer;            // Channel / Neuron / Direction ("" = the model's default layer)
  int64_t channel = 0;          // Channel, Neuron
  int64_t x = -1, y = -1;       // Neuron position at the layer's resolution (-1: the centre)
  int64_t cls = 0;              // Class: the logit to raise
  std::vector<float> direction;  // Direction: [K] weights over the layer's channels

  Param param = Param::Fft;
  bool decorrelate = true;  // colour-decorrelated parameter space (Lucent's SVD square root)
  int size = 128;           // side of the optimized image; resized to the model's input
  int steps = 512;
  double lr = 0.05;         // Adam, betas (0.9, 0.999), eps 1e-8, as torch.optim.Adam
  bool transforms = true;   // pad 12 -> jitter 8 -> scale 0.9..1.1 -> rotate +-10 deg -> jitter 4
  int redirect_steps = 16;  // the first steps use the redirected ReLU (0: never)
  double l1 = 0, l2 = 0, tv = 0;  // penalties on the image (about grey 0.5; total variation)
  int batch = 1;                  // images optimized together
  double diversity = 0;  // batch > 1: weight of the Gram-matrix diversity term (Lucent's)
  uint64_t seed = 0;     // initial noise and transforms
  // "Accentuate": start from this image ([3, H, W] float in [0, 1], any size) instead of noise.
  torch::Tensor init;
};

struct OptvisStep {
  int step = 0, total = 0;  // steps done of total
  double objective = 0;     // the unit's value at this step (without penalties or diversity)
};
// Called after every step; `images()` computes the current images [batch, 3, size, size] in
// [0, 1] (CPU, detached) when the caller wants them (a panel every few steps), so a step does
// not pay for them otherwise. Returning false stops at once: optimize() then throws Cancelled.
using OptvisImages = std::function<torch::Tensor()>;
using OptvisCallback = std::function<bool(const OptvisStep&, const OptvisImages& images)>;

struct OptvisResult {
  torch::Tensor images;            // [batch, 3, size, size] float32 in [0, 1] on the CPU
  std::vector<double> objectives;  // per step (the value before that step's update)
  std::string layer;               // resolved layer ("" for a class objective)
};

// Throws camscope::Error with one line for a bad layer / channel / class / direction length or
// a model whose input is neither RGB nor grey, and Cancelled when the callback says stop.
OptvisResult optimize(model::Model& model, const OptvisRequest& req,
                      const OptvisCallback& callback = nullptr);

// The image a parameter tensor stands for (no transforms): for tests and the first frame.
// Exposed so the Python reference can be checked against the same parameterization.
torch::Tensor optvis_image(const torch::Tensor& param, OptvisRequest::Param kind, bool decorrelate,
                           int size);

}  // namespace camscope::explain
