#pragma once
// The synthetic world: shapes of six classes on cluttered procedural backgrounds, with ground
// truth (class, box, center) per object. One implementation serves `camscope synth` (training
// and test scenes), the `synthetic[:seed]` live source and the built-in model's tests.
//
// Every pixel is a pure function of (mode, seed, index, size): the generator has its own PRNG
// (splitmix64-seeded xoshiro256**) and never uses std:: distributions, whose output differs
// between standard libraries. No FFmpeg, LibTorch or GL here.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace camscope::capture {

enum class Shape { Circle = 0, Square, Triangle, Star, Cross, Ring };
constexpr int kShapeCount = 6;
// "circle", "square", "triangle", "star", "cross", "ring": the built-in model's labels.
const char* shape_name(Shape s);
const std::array<const char*, kShapeCount>& shape_names();

// single: one labeled object (training, accuracy and pointing tests);
// pair: two objects of different classes, not overlapping (class-discrimination tests);
// moving: a few objects gliding and turning over a static background (the live input).
enum class SceneMode { Single, Pair, Moving };
SceneMode parse_scene_mode(const std::string& name);  // throws camscope::Error
const char* scene_mode_name(SceneMode m);

struct SceneObject {
  Shape shape = Shape::Circle;
  float cx = 0, cy = 0;  // center, pixels (x right, y down; pixel centers at +0.5)
  float radius = 0;      // circumscribed radius, pixels
  float angle = 0;       // rotation, radians
  std::array<uint8_t, 3> color{};
  // Tight box of the pixels the shape covers by at least half, clipped to the image:
  // x0 <= x < x1, y0 <= y < y1 (half-open, pixel indices).
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

struct Scene {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width*height*3, top row first
  std::vector<SceneObject> objects;
};

// Renders one still scene (single or pair mode; moving mode gives frame `index`).
// Throws camscope::Error for sizes outside 16..8192.
Scene make_scene(SceneMode mode, uint64_t seed, uint64_t index, int width, int height);

// The moving world of one seed: the background is rendered once and reused, objects follow
// closed-form trajectories, so any frame can be rendered directly (seeking costs one frame).
class MovingWorld {
 public:
  MovingWorld(uint64_t seed, int width, int height);
  int width() const { return m_width; }
  int height() const { return m_height; }
  // Renders frame `index` into rgb (resized to width*height*3; no reallocation once sized)
  // and its objects' ground truth into objects (may be null).
  void render(uint64_t index, std::vector<uint8_t>& rgb, std::vector<SceneObject>* objects) const;

 private:
  struct Track {
    Shape shape;
    float radius, x0, y0, vx, vy, angle0, spin;
    std::array<uint8_t, 3> color;
  };
  uint64_t m_seed;
  int m_width, m_height;
  std::vector<uint8_t> m_background;
  std::vector<Track> m_tracks;
};

}  // namespace camscope::capture
