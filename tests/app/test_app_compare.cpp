// The compare view and live faithfulness metrics (issue 18) in a scripted headless window:
// several methods from one pass equal each method computed alone, their rank correlations form
// a symmetric matrix with ones on the diagonal, and metrics arrive per frame with the frame
// they belong to (stability only between consecutive frames).
#include <doctest/doctest.h>

#include <cmath>

#include "view_session.h"

using namespace camscope;

TEST_CASE("compare view: each method's map equals the method alone; Spearman matrix") {
  test::TempDir dir("compare_view");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\n"
                             "compare_methods gradcampp,layercam,eigencam\ncompare on\n"
                             "wait_result 240\nframes 2\nprint_state\n"
                             "compare off\nmethod gradcampp\nwait_result 240\nprint_state\n"
                             "method layercam\nwait_result 240\nprint_state\n"
                             "method eigencam\nwait_result 240\nprint_state\nquit\n");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 4);
  const Json& r = s.states[0].at("result");
  CHECK(s.states[0].at("compare_shown").get<int>() == 3);
  const Json& cmp = r.at("compare");
  REQUIRE(cmp.size() == 3);
  const char* names[] = {"gradcampp", "layercam", "eigencam"};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(cmp[i].at("method").get<std::string>() == names[i]);
    // The same map as the method computed on its own (one shared pass, bit for bit).
    CHECK(cmp[i].at("map_sum").get<double>() ==
          s.states[i + 1].at("result").at("map_sum").get<double>());
  }
  const Json& sp = r.at("compare_spearman");
  REQUIRE(sp.size() == 16);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(sp[i * 4 + i].get<double>() == doctest::Approx(1.0));
    for (size_t j = 0; j < 4; ++j) {
      CHECK(sp[i * 4 + j].get<double>() == doctest::Approx(sp[j * 4 + i].get<double>()));
      CHECK(std::abs(sp[i * 4 + j].get<double>()) <= 1.0 + 1e-9);
    }
  }
  CHECK(s.states[1].at("result").at("compare").empty());  // off again: one method
}

TEST_CASE("live metrics: per frame, in range, stability between consecutive frames") {
  test::TempDir dir("compare_metrics");
  const std::string clip = test::make_clip(dir, "clip.mp4", 12, 10);
  auto s = test::view_script(dir, "s",
                             "wait_result 240\nmetrics on\nsleep 3\n"
                             "step 1\nwait_result 120\nsleep 3\n"
                             "step 1\nwait_result 120\nsleep 3\nseek 7\nwait_result 120\nsleep 3\n"
                             "print_state\nquit\n",
                             "--input '" + clip + "' --pause");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 1);
  const Json& m = s.states[0].at("metrics");
  REQUIRE(m.size() == 4);
  const int64_t frames[] = {0, 1, 2, 7};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(m[i].at("frame_index").get<int64_t>() == frames[i]);
    for (const char* k : {"drop", "deletion", "insertion", "score"}) {
      const double v = m[i].at(k).get<double>();
      CHECK_MESSAGE((v >= 0.0 && v <= 1.0), k << " " << v);
    }
  }
  CHECK(m[0].at("stability").is_null());  // nothing before it
  for (size_t i : {1, 2}) {  // consecutive frames: a rank correlation
    REQUIRE_FALSE(m[i].at("stability").is_null());
    CHECK(std::abs(m[i].at("stability").get<double>()) <= 1.0);
  }
  CHECK(m[3].at("stability").is_null());  // 7 does not follow 2
}
