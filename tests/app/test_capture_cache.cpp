// The decoded-frame LRU cache: bounded in bytes, evicts the least recently used frame, and
// recycles evicted buffers only once nobody holds them.
#include <doctest/doctest.h>

#include "capture/frame_cache.h"

using namespace camscope::capture;

namespace {
std::shared_ptr<Frame> frame(int64_t index, size_t bytes) {
  auto f = std::make_shared<Frame>();
  f->index = index;
  f->width = static_cast<int>(bytes / 3);
  f->height = 1;
  f->rgb.assign(bytes, static_cast<uint8_t>(index));
  return f;
}
}  // namespace

TEST_CASE("frame cache evicts least recently used frames to stay within its byte budget") {
  FrameCache cache(1000);
  for (int64_t i = 0; i < 3; ++i) cache.put(frame(i, 300));
  CHECK(cache.used_bytes() == 900);
  Frame out;
  REQUIRE(cache.get(0, out));  // 0 becomes the most recently used
  CHECK(out.index == 0);
  CHECK(out.rgb == std::vector<uint8_t>(300, 0));
  cache.put(frame(3, 300));  // 1200 > 1000: evicts 1, the least recently used
  CHECK(cache.used_bytes() == 900);
  CHECK_FALSE(cache.contains(1));
  CHECK(cache.contains(0));
  CHECK(cache.contains(2));
  CHECK(cache.contains(3));
  cache.put(frame(4, 600));  // evicts 2 and 0
  CHECK(cache.used_bytes() == 900);
  CHECK_FALSE(cache.contains(0));
  CHECK_FALSE(cache.contains(2));
  CHECK(cache.find(3)->index == 3);
  cache.put(frame(5, 2000));  // larger than the whole budget: not cached, nothing evicted
  CHECK_FALSE(cache.contains(5));
  CHECK(cache.used_bytes() == 900);
}

TEST_CASE("frame cache hands out an evicted buffer only when no one else holds it") {
  FrameCache cache(300);
  auto held = frame(0, 300);
  cache.put(held);
  cache.put(frame(1, 300));  // evicts 0, which `held` still references
  auto spare = cache.take_spare();
  CHECK(spare.get() != held.get());
  CHECK(spare->rgb.empty());  // a fresh frame
  const Frame* raw = held.get();
  held.reset();
  cache.put(frame(2, 300));  // evicts 1; 0 is now free too
  bool got_zero = false;
  for (int i = 0; i < 3; ++i) got_zero = got_zero || cache.take_spare().get() == raw;
  CHECK(got_zero);
}
