// Placeholder until the synthetic world lands: says so instead of producing frames.
#include "capture/frame_source.h"
#include "util/error.h"

namespace camscope::capture {
std::unique_ptr<FrameSource> make_synthetic_source(uint64_t, int, int) {
  throw Error("synthetic input is not available in this build yet");
}
}  // namespace camscope::capture
