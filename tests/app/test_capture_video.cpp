// Video sources: frame-exact seeking checked against sequential decoding on clips made at test
// time by the ffmpeg CLI (B-frames with a 250-frame GOP, VP9/WebM, MJPEG/AVI, variable frame
// rate), frame counts against ffprobe, and the --frames walk.
#include <doctest/doctest.h>

#include <random>

#include "capture/frame_source.h"
#include "test_support.h"
#include "util/error.h"
#include "util/frame_range.h"

using namespace camscope;
using capture::Frame;

namespace {

// A 160x90 moving test pattern encoded by the ffmpeg CLI with `codec_args`.
std::string make_clip(const test::TempDir& dir, const std::string& name, const std::string& filters,
                      const std::string& codec_args, int frames = 300) {
  const std::string out = dir.str(name);
  auto r = test::run(
      "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x90:rate=30 "
      "-frames:v " +
          std::to_string(frames) + " " + filters + " " + codec_args + " '" + out + "'",
      120);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}

int64_t ffprobe_frame_count(const std::string& path) {
  auto r = test::run(
      "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
      "stream=nb_read_frames -of csv=p=0 '" +
          path + "'",
      120);
  REQUIRE(r.status == 0);
  return std::stoll(r.output);
}

std::vector<Frame> decode_all(const std::string& path) {
  capture::SourceOptions opt;
  opt.cache_mb = 0;
  auto src = capture::open_source(path, opt);
  std::vector<Frame> frames;
  Frame f;
  while (src->next(f)) frames.push_back(f);
  CHECK(src->state() == capture::SourceState::End);
  CHECK(src->skipped() == 0);
  return frames;
}

// Seeks to 50 random frames (forward and backward jumps) and to both ends; every result must be
// bit-identical to the frame sequential decoding produced at that position.
void check_random_seeks(const std::string& path, const std::vector<Frame>& seq, int64_t cache_mb) {
  capture::SourceOptions opt;
  opt.cache_mb = cache_mb;
  auto src = capture::open_source(path, opt);
  REQUIRE(src->info().frame_count == static_cast<int64_t>(seq.size()));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(seq.size()) - 1);
  std::vector<int64_t> targets = {static_cast<int64_t>(seq.size()) - 1, 0};
  for (int i = 0; i < 50; ++i) targets.push_back(pick(rng));
  // Single steps both ways, across the 120-frame mark (a keyframe in the VP9 clip), and a
  // revisit (a cache hit when the cache is on).
  targets.insert(targets.end(), {120, 121, 120, 119, 118, 150, 151, 150, targets[5]});
  int backward = 0;
  Frame f;
  for (size_t k = 0; k < targets.size(); ++k) {
    const int64_t t = targets[k];
    if (k > 0 && t < targets[k - 1]) ++backward;
    REQUIRE(src->seek(t, f));
    CHECK(f.index == t);
    CHECK(f.width == seq[t].width);
    CHECK(f.pts == doctest::Approx(seq[t].pts));
    CHECK_MESSAGE(f.rgb == seq[t].rgb, "frame " << t << " differs from sequential decoding");
  }
  CHECK(backward >= 10);
  // next() continues after the last seek.
  REQUIRE(src->seek(160, f));
  REQUIRE(src->next(f));
  CHECK(f.index == 161);
  CHECK(f.rgb == seq[161].rgb);
}

void check_clip(const std::string& path, int64_t expected_frames) {
  std::vector<Frame> seq = decode_all(path);
  REQUIRE(static_cast<int64_t>(seq.size()) == expected_frames);
  CHECK(ffprobe_frame_count(path) == expected_frames);
  for (size_t i = 0; i < seq.size(); ++i) {
    REQUIRE(seq[i].index == static_cast<int64_t>(i));
    CHECK(seq[i].width == 160);
    CHECK(seq[i].height == 90);
    if (i > 0) CHECK(seq[i].pts > seq[i - 1].pts);
  }
  CHECK(seq[0].pts == 0.0);
  // The pattern moves: neighbouring frames differ, so a seek off by one cannot pass.
  CHECK(seq[10].rgb != seq[11].rgb);
  check_random_seeks(path, seq, 0);   // every seek decodes
  check_random_seeks(path, seq, 64);  // cache + prefetch in play
}

}  // namespace

TEST_CASE("H.264 with B-frames and a 250-frame GOP seeks frame-exactly") {
  test::TempDir dir("cap_h264");
  auto clip =
      make_clip(dir, "h264.mp4", "",
                "-c:v libx264 -preset ultrafast -bf 3 -g 250 -keyint_min 250 -sc_threshold 0 "
                "-pix_fmt yuv420p");
  auto src = capture::open_source(clip);
  CHECK(src->info().kind == "video");
  CHECK(src->info().seekable);
  CHECK(src->info().frame_count == 300);
  CHECK(src->info().fps == doctest::Approx(30.0));
  CHECK(src->info().duration == doctest::Approx(10.0).epsilon(0.01));
  CHECK(src->index_at_time(5.0) == 150);
  CHECK(src->index_at_time(5.02) == 150);
  CHECK(src->pts_of(150) == doctest::Approx(5.0));
  check_clip(clip, 300);
  // A 1 MB cache holds ~24 frames: constant eviction and reuse of evicted buffers.
  check_random_seeks(clip, decode_all(clip), 1);
}

TEST_CASE("VP9 in WebM seeks frame-exactly") {
  test::TempDir dir("cap_vp9");
  auto clip = make_clip(dir, "vp9.webm", "",
                        "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 120 -b:v 200k", 240);
  check_clip(clip, 240);
}

TEST_CASE("MJPEG in AVI seeks frame-exactly") {
  test::TempDir dir("cap_mjpeg");
  auto clip = make_clip(dir, "mjpeg.avi", "", "-c:v mjpeg -q:v 5 -pix_fmt yuvj420p", 200);
  check_clip(clip, 200);
}

TEST_CASE("variable frame rate H.264 indexes by presentation order and seeks frame-exactly") {
  test::TempDir dir("cap_vfr");
  // Dropping 2 of every 5 frames and keeping the timestamps gives uneven frame durations.
  auto clip = make_clip(
      dir, "vfr.mp4",
      "-vf \"select='not(eq(mod(n\\,5)\\,1))*not(eq(mod(n\\,5)\\,2))'\" -fps_mode vfr",
      "-c:v libx264 -preset ultrafast -bf 2 -g 250 -sc_threshold 0 -pix_fmt yuv420p", 270);
  std::vector<Frame> seq = decode_all(clip);
  REQUIRE(seq.size() == 270);
  // Gaps alternate between 1/30 s and 3/30 s.
  CHECK(seq[1].pts - seq[0].pts == doctest::Approx(3.0 / 30).epsilon(0.01));
  CHECK(seq[2].pts - seq[1].pts == doctest::Approx(1.0 / 30).epsilon(0.01));
  auto src = capture::open_source(clip);
  CHECK(src->index_at_time(seq[100].pts + 0.001) == 100);
  CHECK(src->index_at_time(seq[100].pts - 0.001) == 99);
  check_clip(clip, 270);
}

TEST_CASE("for_each_frame walks --frames A:B from a seek") {
  test::TempDir dir("cap_range");
  auto clip = make_clip(dir, "h264.mp4", "",
                        "-c:v libx264 -preset ultrafast -bf 3 -g 60 -pix_fmt yuv420p", 120);
  std::vector<Frame> seq = decode_all(clip);
  auto src = capture::open_source(clip);
  std::vector<int64_t> seen;
  int64_t n = capture::for_each_frame(*src, parse_frame_range("70:80"), [&](const Frame& f) {
    CHECK(f.rgb == seq[f.index].rgb);
    seen.push_back(f.index);
    return true;
  });
  CHECK(n == 10);
  REQUIRE(seen.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(seen[i] == 70 + i);
  seen.clear();
  capture::for_each_frame(*src, parse_frame_range("115:"), [&](const Frame& f) {
    seen.push_back(f.index);
    return true;
  });
  CHECK(seen == std::vector<int64_t>{115, 116, 117, 118, 119});
  n = capture::for_each_frame(*src, parse_frame_range(":100"),
                              [&](const Frame& f) { return f.index < 2; });
  CHECK(n == 3);  // stops when the callback says so
  CHECK_THROWS_AS(capture::for_each_frame(*src, parse_frame_range("120:130"),
                                          [](const Frame&) { return true; }),
                  Error);
  Frame f;
  CHECK_THROWS_AS(src->seek(120, f), Error);
  CHECK_THROWS_AS(src->seek(-1, f), Error);
}

TEST_CASE(
    "streams without timestamps (raw H.264, MPEG-4 Part 2 with B-frames in AVI) count pictures") {
  test::TempDir dir("cap_nopts");
  auto raw = make_clip(dir, "raw.h264", "",
                       "-c:v libx264 -preset ultrafast -bf 3 -g 60 -pix_fmt yuv420p", 200);
  check_clip(raw, 200);
  auto avi = make_clip(dir, "mpeg4.avi", "", "-c:v mpeg4 -bf 2 -g 50", 200);
  check_clip(avi, 200);
}

TEST_CASE("an animated GIF plays as a video") {
  test::TempDir dir("cap_gif");
  auto gif = make_clip(dir, "anim.gif", "", "", 12);
  auto src = capture::open_source(gif);
  CHECK(src->info().frame_count == 12);
  std::vector<Frame> seq;
  Frame f;
  while (src->next(f)) seq.push_back(f);
  REQUIRE(seq.size() == 12);
  CHECK(seq[3].rgb != seq[4].rgb);
  REQUIRE(src->seek(4, f));
  CHECK(f.rgb == seq[4].rgb);
}
