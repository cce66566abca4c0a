#pragma once
// Explanation methods over a model::Model: the CAM family at a tapped layer and the gradient
// saliency family in input space (DESIGN.md "Numerical conventions"). One call = one image.
// The pure tensor maths lives in cam_math.h / pixel_math.h so it can be tested without a model.
// This header includes LibTorch: include it only from model/, explain/ and app/ code.
#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"

namespace camscope::explain {

enum class Method {
  Activation,  // mean over channels of the tapped activation
  Cam,
  GradCam,
  GradCamPP,
  XGradCam,
  LayerCam,
  ScoreCam,
  EigenCam,
  Saliency,
  GradXInput,
  SmoothGrad,
  IntGrad,
  GuidedBP,
  GuidedGradCam,
  // Round 2 (DESIGN.md "Round-2 CAM methods"); all in the CAM family.
  HiResCam,
  GradCamElementWise,
  EigenGradCam,
  AblationCam,
  Fem,
  KpcaCam,
  ShapleyCam,
  FinerCam,
  RandomCam,
  SmoothGradCamPP,
};

// "gradcam" -> Method::GradCam. Throws camscope::Error ("unknown method 'gradcan' (did you mean
// gradcam?)") on anything else.
Method parse_method(const std::string& name);
const char* method_name(Method m);        // the CLI spelling, e.g. "gradcampp"
std::vector<std::string> method_names();  // all CLI spellings, in enum order
// Feature-map methods: they need a layer with a 4-D [1, K, h, w] output (h*w > 1) and their raw
// map lives at feature resolution. Activation counts as one. GuidedGradCam needs a layer too
// (for its Grad-CAM half) but its raw attribution is in input space: see is_pixel_space().
bool is_cam_family(Method m);
bool is_pixel_space(
    Method m);               // Saliency, GradXInput, SmoothGrad, IntGrad, GuidedBP, GuidedGradCam
bool needs_layer(Method m);  // is_cam_family(m) || m == GuidedGradCam
// Methods that run extra batched forward passes (scorecam, ablationcam, smoothgrad, intgrad,
// smoothgradcampp): seconds rather than milliseconds per frame; they report Progress.
bool is_slow(Method m);
// Methods computed from one shared forward (+ backward to the tap) in explain_many().
bool shares_pass(Method m);

// Progress of a long method (scorecam: channels, smoothgrad: samples, intgrad: steps, the
// sanity check: blocks), called at every batch boundary with the work done so far and the
// total. Returning false stops the computation there: explain() then throws Cancelled. A plain
// function parameter: explain stays free of threads; the caller decides what "stop" means.
using Progress = std::function<bool(int64_t done, int64_t total, const char* unit)>;

// Thrown when a Progress callback asked to stop. Not an Error: nothing went wrong.
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

struct Request {
  Method method = Method::GradCam;
  std::string layer;    // module path; "" = the model's default_layer()
  int64_t target = -1;  // class index; -1 = top-1 of the clean forward pass
  int scorecam_batch = 16;
  int smoothgrad_samples = 25;
  float smoothgrad_sigma = 0.15f;  // noise std as a fraction of (max x - min x)
  uint64_t seed = 0;  // SmoothGrad(-CAM++) noise, Random-CAM weights: CPU generator seed
  int intgrad_steps = 50;          // Gauss-Legendre nodes, zero baseline
  int sample_batch = 8;            // SmoothGrad / IntGrad / SmoothGrad-CAM++ inputs per pass
  int ablation_batch = 32;         // Ablation-CAM: ablated channels per forward pass
  float finer_alpha = 1.0f;        // Finer-CAM: S = sum_j p_j (z_t - alpha z_j) / sum_j p_j
  int smoothgradcampp_samples = 4;
  float smoothgradcampp_sigma = 0.3f;  // noise std in normalized input space
  Progress progress;               // optional; see Progress
};

struct Result {
  // [H_in, W_in] float32 in [0, 1] on the model's device: what the UI and export show.
  torch::Tensor map;
  // Before normalization. CAM family: [h, w] weighted sum before ReLU (feature resolution).
  // Pixel space: [C_in, H_in, W_in] attribution (GuidedGradCam: guided gradient x Grad-CAM map).
  torch::Tensor raw;
  torch::Tensor logits;           // [classes] of the clean input
  torch::Tensor activation;       // [K, h, w] (or the tap's shape without N) at request.layer
  torch::Tensor gradient;         // [K, h, w] d score / d activation, or undefined
  torch::Tensor channel_weights;  // [K] CAM weights, or undefined (LayerCAM, EigenCAM, pixel)
  int64_t target = -1;            // the class explained
  std::string layer;              // the layer actually tapped (request.layer or the default)
  std::vector<std::pair<std::string, double>> timings_ms;  // stage -> milliseconds, in order
};

// input: [1, C, H, W] preprocessed (model.preprocess), moved to the model's device if elsewhere.
// Not thread-safe for one model (the model caches rewritten graphs): call from one worker.
// Throws camscope::Error with one line for
// a bad target, a nonexistent layer, a layer without spatial dims for a CAM-family method, or
// `cam` on a model without a global-average-pool + linear head (naming the layers where it
// works). Throws Cancelled when req.progress returned false.
Result explain(model::Model& model, const torch::Tensor& input, const Request& req);

// Several methods on one image. Those that shares_pass() are computed from one forward pass
// (the methods without gradient) and one forward + backward to the tap (those with), so N
// gradient-based CAM methods cost about one; the others run as explain() would. Results are in
// the order of `methods` and equal explain() with base.method = methods[i] exactly.
std::vector<Result> explain_many(model::Model& model, const torch::Tensor& input,
                                 const std::vector<Method>& methods, const Request& base);

// Methods explain_batch() runs as one forward/backward for the whole batch: activation and the
// gradient CAMs with one target per image (gradcam, gradcampp, xgradcam, layercam). In eval
// mode the images are independent, so the gradient of the sum of the per-image target scores
// gives each image its own gradient.
bool batchable(Method m);

// inputs: [N, C, H, W] preprocessed images. Returns one Result per image, equal to
// explain(model, inputs[i:i+1], req) up to float rounding (a batched convolution may sum in
// another order); req.target applies to every image (-1: each image's own top-1). Methods that
// do not batch run explain() image by image. Timings are the batch's (each Result carries the
// whole batch's stage times). Same errors as explain().
std::vector<Result> explain_batch(model::Model& model, const torch::Tensor& inputs,
                                  const Request& req);

// Softmax of logits [classes] -> the n best (class, probability), best first.
std::vector<std::pair<int64_t, double>> top_classes(const torch::Tensor& logits, int n = 5);

}  // namespace camscope::explain
