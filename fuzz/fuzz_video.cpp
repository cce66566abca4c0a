// libFuzzer harness: video files through camscope's VideoSource (src/capture/video_source.cpp,
// ffmpeg_util.cpp): FFmpeg demuxes and decodes (not instrumented), camscope's index, seek and
// conversion code is. The input is written to a temporary file, opened as the app opens a video
// (make_video_source), then a few frames are read in order, the middle and the first frame are
// sought and the time <-> index mapping is asked. Any outcome but frames of the stated size or
// a camscope::Error with a one-line message is a bug (a crash, a sanitizer report, a hang:
// libFuzzer's -timeout).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "capture/frame_source.h"
#include "capture/sources.h"
#include "util/error.h"

namespace {
std::string temp_path() {
  static std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/camscope_fuzz_video_" +
           std::to_string(::getpid()) + ".bin";
  }();
  static const bool cleanup = [] { return std::atexit([] { std::remove(p.c_str()); }) == 0; }();
  (void)cleanup;
  return p;
}

void check_frame(const camscope::capture::Frame& f, const camscope::capture::SourceInfo& info) {
  if (f.width != info.width || f.height != info.height) std::abort();
  if (f.rgb.size() != static_cast<size_t>(f.width) * f.height * 3) std::abort();
  if (f.index < 0 || f.index >= info.frame_count) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = temp_path();
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) std::abort();
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  camscope::capture::SourceOptions opt;
  opt.cache_mb = 16;
  opt.prefetch = 2;
  opt.decoder_threads = 1;
  try {
    auto src = camscope::capture::make_video_source(path, opt);
    const auto info = src->info();  // a copy: checked against what frames say
    if (info.frame_count < 1 || info.width < 1 || info.height < 1) std::abort();
    camscope::capture::Frame f;
    for (int i = 0; i < 4 && src->next(f); ++i) check_frame(f, info);
    if (src->seek(info.frame_count / 2, f)) check_frame(f, info);
    if (src->seek(0, f)) check_frame(f, info);
    if (src->next(f)) check_frame(f, info);
    const int64_t last = src->index_at_time(1e9);
    if (last < 0 || last >= info.frame_count) std::abort();
    if (src->index_at_time(-1.0) != 0) std::abort();
    (void)src->pts_of(info.frame_count - 1);
    (void)src->skipped();
  } catch (const camscope::Error& e) {
    const std::string msg = e.what();
    if (msg.empty() || msg.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
