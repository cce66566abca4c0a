#include "capture/synthetic_world.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace camscope::capture {
namespace {

constexpr float kPi = 3.14159265358979f;

// [SECTION] Randomness: our own generators so every platform draws the same scenes.

uint64_t mix64(uint64_t z) {  // splitmix64 finalizer
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Rng {  // xoshiro256**, seeded through splitmix64
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : m_s) s = seed = mix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
  }
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }  // [0,1)
  float uniform(float a, float b) { return a + (b - a) * uniform(); }
  int below(int n) { return static_cast<int>((next() >> 32) * static_cast<uint64_t>(n) >> 32); }
  bool chance(float p) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t m_s[4];
};

// Distinct streams for (what, seed, index) so scenes of different modes never share draws.
uint64_t stream(uint64_t what, uint64_t seed, uint64_t index) {
  return mix64(mix64(mix64(what) ^ seed) ^ (index * 0xd1342543de82ef95ull));
}

// [SECTION] Background: a float canvas of procedural layers, quantized once.

using Rgbf = std::array<float, 3>;

Rgbf random_color(Rng& r) { return {r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255)}; }

float luma(const Rgbf& c) { return 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2]; }

float smooth(float t) { return t * t * (3 - 2 * t); }

// Value noise: random values on an integer lattice, smoothly interpolated.
float lattice(int64_t ix, int64_t iy, uint64_t key) {
  uint64_t h = mix64(key ^ mix64(static_cast<uint64_t>(ix) * 0x9e3779b97f4a7c15ull +
                                 static_cast<uint64_t>(iy)));
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

float value_noise(float x, float y, uint64_t key) {
  const float fx = std::floor(x), fy = std::floor(y);
  const auto ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const float tx = smooth(x - fx), ty = smooth(y - fy);
  const float a = lattice(ix, iy, key), b = lattice(ix + 1, iy, key);
  const float c = lattice(ix, iy + 1, key), d = lattice(ix + 1, iy + 1, key);
  return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
}

float fbm(float x, float y, uint64_t key, int octaves) {
  float sum = 0, amp = 0.5f, norm = 0;
  for (int o = 0; o < octaves; ++o) {
    sum += amp * value_noise(x, y, key + static_cast<uint64_t>(o) * 7919);
    norm += amp;
    x *= 2.03f;
    y *= 2.03f;
    amp *= 0.5f;
  }
  return sum / norm;
}

class Canvas {
 public:
  Canvas(int w, int h) : m_w(w), m_h(h), m_px(static_cast<size_t>(w) * h * 3, 0.0f) {}
  int w() const { return m_w; }
  int h() const { return m_h; }
  float* at(int x, int y) { return &m_px[(static_cast<size_t>(y) * m_w + x) * 3]; }
  void blend(int x, int y, const Rgbf& c, float a) {
    float* p = at(x, y);
    for (int k = 0; k < 3; ++k) p[k] += (c[k] - p[k]) * a;
  }
  // Fills every pixel with f(x, y) -> (color, alpha) blended over what is there.
  template <class F>
  void layer(F f) {
    for (int y = 0; y < m_h; ++y)
      for (int x = 0; x < m_w; ++x) {
        float a = 1;
        Rgbf c = f(x + 0.5f, y + 0.5f, a);
        blend(x, y, c, a);
      }
  }
  std::vector<uint8_t> quantize(Rng& r, float grain) const {
    std::vector<uint8_t> out(m_px.size());
    for (size_t i = 0; i < m_px.size(); ++i) {
      float v = m_px[i] + (grain > 0 ? r.uniform(-grain, grain) : 0.0f);
      out[i] = static_cast<uint8_t>(std::clamp(std::lround(v), 0l, 255l));
    }
    return out;
  }

 private:
  int m_w, m_h;
  std::vector<float> m_px;
};

Rgbf mix(const Rgbf& a, const Rgbf& b, float t) {
  return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t};
}

// One full-frame texture layer; `scale` is pixels per 112-pixel unit so every size looks alike.
void texture_layer(Canvas& cv, Rng& r, float scale, float alpha) {
  const Rgbf c0 = random_color(r), c1 = random_color(r);
  const float th = r.uniform(0, kPi), ct = std::cos(th), st = std::sin(th);
  switch (r.below(5)) {
    case 0: {  // linear gradient
      const float len = std::hypot(static_cast<float>(cv.w()), static_cast<float>(cv.h()));
      cv.layer([&](float x, float y, float& a) {
        a = alpha;
        return mix(c0, c1, std::clamp(0.5f + (x * ct + y * st - 0.5f * len) / len, 0.0f, 1.0f));
      });
      break;
    }
    case 1: {  // value noise between two colors, 1-4 octaves
      const float period = r.uniform(6, 40) * scale;
      const int oct = 1 + r.below(4);
      const uint64_t key = r.next();
      cv.layer([&](float x, float y, float& a) {
        a = alpha;
        return mix(c0, c1, fbm(x / period, y / period, key, oct));
      });
      break;
    }
    case 2: {  // stripes, soft or hard
      const float period = r.uniform(3, 24) * scale, phase = r.uniform(0, 2 * kPi);
      const bool hard = r.chance(0.5f);
      cv.layer([&](float x, float y, float& a) {
        a = alpha;
        float s = 0.5f + 0.5f * std::sin(2 * kPi * (x * ct + y * st) / period + phase);
        if (hard) s = s > 0.5f ? 1.0f : 0.0f;
        return mix(c0, c1, s);
      });
      break;
    }
    case 3: {  // rotated checkerboard
      const float cell = r.uniform(3, 20) * scale;
      cv.layer([&](float x, float y, float& a) {
        a = alpha;
        const auto u = static_cast<int64_t>(std::floor((x * ct + y * st) / cell));
        const auto v = static_cast<int64_t>(std::floor((-x * st + y * ct) / cell));
        return ((u + v) & 1) ? c1 : c0;
      });
      break;
    }
    default: {  // blotches: thresholded noise, c1 patches over what is there
      const float period = r.uniform(8, 30) * scale, thresh = r.uniform(0.45f, 0.65f);
      const uint64_t key = r.next();
      cv.layer([&](float x, float y, float& a) {
        const float n = fbm(x / period, y / period, key, 2);
        a = alpha * std::clamp((n - thresh) * 12.0f, 0.0f, 1.0f);
        return c1;
      });
      break;
    }
  }
}

// Distractors that belong to no class: thin lines, scribbles, dots. They are there so the
// model must learn the shapes, not "the sharp-edged thing in the picture".
void distractors(Canvas& cv, Rng& r, float scale) {
  const int lines = r.below(7), dots = r.below(10);
  const float diag = std::hypot(static_cast<float>(cv.w()), static_cast<float>(cv.h()));
  auto stamp_segment = [&](float ax, float ay, float bx, float by, float half, const Rgbf& c) {
    const int x0 = std::max(0, static_cast<int>(std::floor(std::min(ax, bx) - half - 1)));
    const int x1 = std::min(cv.w() - 1, static_cast<int>(std::ceil(std::max(ax, bx) + half + 1)));
    const int y0 = std::max(0, static_cast<int>(std::floor(std::min(ay, by) - half - 1)));
    const int y1 = std::min(cv.h() - 1, static_cast<int>(std::ceil(std::max(ay, by) + half + 1)));
    const float dx = bx - ax, dy = by - ay, len2 = std::max(dx * dx + dy * dy, 1e-6f);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const float px = x + 0.5f - ax, py = y + 0.5f - ay;
        const float t = std::clamp((px * dx + py * dy) / len2, 0.0f, 1.0f);
        const float d = std::hypot(px - t * dx, py - t * dy) - half;
        const float cov = std::clamp(0.5f - d, 0.0f, 1.0f);
        if (cov > 0) cv.blend(x, y, c, cov);
      }
  };
  for (int i = 0; i < lines; ++i) {
    const Rgbf c = random_color(r);
    const float half = r.uniform(0.4f, 1.5f) * scale;
    float x = r.uniform(0, static_cast<float>(cv.w())), y = r.uniform(0, static_cast<float>(cv.h()));
    float dir = r.uniform(0, 2 * kPi);
    const int segs = r.chance(0.5f) ? 1 : 2 + r.below(5);  // straight line or scribble
    for (int s = 0; s < segs; ++s) {
      const float len = (segs == 1 ? r.uniform(0.2f, 0.8f) * diag : r.uniform(4, 14) * scale);
      const float nx = x + std::cos(dir) * len, ny = y + std::sin(dir) * len;
      stamp_segment(x, y, nx, ny, half, c);
      x = nx;
      y = ny;
      dir += r.uniform(-1.2f, 1.2f);
    }
  }
  for (int i = 0; i < dots; ++i) {
    const Rgbf c = random_color(r);
    const float x = r.uniform(0, static_cast<float>(cv.w())), y = r.uniform(0, static_cast<float>(cv.h()));
    stamp_segment(x, y, x, y, r.uniform(0.8f, 2.5f) * scale, c);
  }
}

std::vector<uint8_t> make_background(Rng& r, int w, int h) {
  Canvas cv(w, h);
  const float scale = std::min(w, h) / 112.0f;
  texture_layer(cv, r, scale, 1.0f);
  const int overlays = 1 + r.below(3);
  for (int i = 0; i < overlays; ++i) texture_layer(cv, r, scale, r.uniform(0.2f, 0.6f));
  distractors(cv, r, scale);
  return cv.quantize(r, r.uniform(0, 10));
}

// [SECTION] Shapes: signed distances in the object's frame (negative inside), in pixels.

struct Vec {
  float x, y;
};

float polygon_sdf(const Vec* v, int n, Vec p) {
  float d2 = 1e30f;
  bool inside = false;
  for (int i = 0, j = n - 1; i < n; j = i++) {
    const Vec e{v[i].x - v[j].x, v[i].y - v[j].y}, w{p.x - v[j].x, p.y - v[j].y};
    const float t = std::clamp((w.x * e.x + w.y * e.y) / (e.x * e.x + e.y * e.y), 0.0f, 1.0f);
    const float bx = w.x - e.x * t, by = w.y - e.y * t;
    d2 = std::min(d2, bx * bx + by * by);
    if ((v[i].y > p.y) != (v[j].y > p.y) &&
        p.x < (v[j].x - v[i].x) * (p.y - v[i].y) / (v[j].y - v[i].y) + v[i].x)
      inside = !inside;
  }
  const float d = std::sqrt(d2);
  return inside ? -d : d;
}

class ShapeSdf {
 public:
  ShapeSdf(Shape s, float radius) : m_shape(s), m_r(radius) {
    auto ring_of = [&](int k, float phase, float inner) {  // regular polygon or star
      const int verts = inner > 0 ? 2 * k : k;
      for (int i = 0; i < verts; ++i) {
        const float rr = (inner > 0 && (i & 1)) ? inner * radius : radius;
        const float a = phase + 2 * kPi * i / verts;
        m_v[m_n++] = {rr * std::cos(a), rr * std::sin(a)};
      }
    };
    switch (s) {
      case Shape::Square: ring_of(4, kPi / 4, 0); break;
      case Shape::Triangle: ring_of(3, -kPi / 2, 0); break;
      case Shape::Star: ring_of(5, -kPi / 2, 0.45f); break;
      case Shape::Cross: {
        const float w = 0.3f * radius, l = std::sqrt(radius * radius - w * w);
        const Vec pts[12] = {{w, l}, {-w, l}, {-w, w}, {-l, w}, {-l, -w}, {-w, -w},
                             {-w, -l}, {w, -l}, {w, -w}, {l, -w}, {l, w}, {w, w}};
        for (const Vec& v : pts) m_v[m_n++] = v;
        break;
      }
      default: break;
    }
  }
  float operator()(Vec p) const {
    const float len = std::hypot(p.x, p.y);
    switch (m_shape) {
      case Shape::Circle: return len - m_r;
      case Shape::Ring: return std::fabs(len - 0.72f * m_r) - 0.28f * m_r;
      default: return polygon_sdf(m_v, m_n, p);
    }
  }

 private:
  Shape m_shape;
  float m_r;
  Vec m_v[12];
  int m_n = 0;
};

// Mean color of the background under a disk: object colors are chosen to stand out from it.
Rgbf mean_under(const std::vector<uint8_t>& bg, int w, int h, float cx, float cy, float rad) {
  double s[3] = {0, 0, 0};
  int n = 0;
  const int x0 = std::max(0, static_cast<int>(cx - rad)), x1 = std::min(w - 1, static_cast<int>(cx + rad));
  const int y0 = std::max(0, static_cast<int>(cy - rad)), y1 = std::min(h - 1, static_cast<int>(cy + rad));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      for (int k = 0; k < 3; ++k) s[k] += bg[(static_cast<size_t>(y) * w + x) * 3 + k];
      ++n;
    }
  if (n == 0) return {128, 128, 128};
  return {static_cast<float>(s[0] / n), static_cast<float>(s[1] / n), static_cast<float>(s[2] / n)};
}

std::array<uint8_t, 3> contrasting_color(Rng& r, const Rgbf& under) {
  for (int tries = 0; tries < 24; ++tries) {
    const Rgbf c = random_color(r);
    const float dl = std::fabs(luma(c) - luma(under));
    const float dc = std::hypot(c[0] - under[0], std::hypot(c[1] - under[1], c[2] - under[2]));
    if (dl >= 70 || (dl >= 45 && dc >= 150))
      return {static_cast<uint8_t>(c[0]), static_cast<uint8_t>(c[1]), static_cast<uint8_t>(c[2])};
  }
  const uint8_t v = luma(under) > 128 ? 15 : 240;
  return {v, v, v};
}

// Draws the object onto rgb (width w) with anti-aliased edges and soft shading, and fills its
// ground-truth box from the pixels it covers by at least half.
void draw_object(std::vector<uint8_t>& rgb, int w, int h, SceneObject& o, float shade_dir,
                 float shade_amount) {
  const ShapeSdf sdf(o.shape, o.radius);
  const float ca = std::cos(o.angle), sa = std::sin(o.angle);
  const float sx = std::cos(shade_dir), sy = std::sin(shade_dir);
  const int x0 = std::max(0, static_cast<int>(std::floor(o.cx - o.radius - 2)));
  const int x1 = std::min(w - 1, static_cast<int>(std::ceil(o.cx + o.radius + 2)));
  const int y0 = std::max(0, static_cast<int>(std::floor(o.cy - o.radius - 2)));
  const int y1 = std::min(h - 1, static_cast<int>(std::ceil(o.cy + o.radius + 2)));
  int bx0 = w, by0 = h, bx1 = -1, by1 = -1;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const float dx = x + 0.5f - o.cx, dy = y + 0.5f - o.cy;
      const Vec local{ca * dx + sa * dy, -sa * dx + ca * dy};
      const float d = sdf(local);
      const float cov = std::clamp(0.5f - d, 0.0f, 1.0f);
      if (cov <= 0) continue;
      if (d <= 0) {
        bx0 = std::min(bx0, x), bx1 = std::max(bx1, x);
        by0 = std::min(by0, y), by1 = std::max(by1, y);
      }
      const float shade = 1 + shade_amount * (dx * sx + dy * sy) / o.radius;
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      for (int k = 0; k < 3; ++k) {
        const float c = std::clamp(o.color[k] * shade, 0.0f, 255.0f);
        p[k] = static_cast<uint8_t>(std::lround(p[k] + (c - p[k]) * cov));
      }
    }
  if (bx1 < 0) {  // sub-pixel object (never drawn by this generator): a one-pixel box
    bx0 = bx1 = std::clamp(static_cast<int>(o.cx), 0, w - 1);
    by0 = by1 = std::clamp(static_cast<int>(o.cy), 0, h - 1);
  }
  o.x0 = bx0, o.y0 = by0, o.x1 = bx1 + 1, o.y1 = by1 + 1;
}

void check_size(int w, int h) {
  if (w < 16 || h < 16 || w > 8192 || h > 8192)
    throw Error("synthetic scene size " + std::to_string(w) + "x" + std::to_string(h) +
                " out of range (16..8192 per side)");
}

// Triangle wave: bounces p along [lo, hi] as it moves, in closed form.
float bounce(double p, double lo, double hi) {
  const double span = hi - lo;
  if (span <= 0) return static_cast<float>(lo);
  double t = std::fmod(p - lo, 2 * span);
  if (t < 0) t += 2 * span;
  return static_cast<float>(lo + (t <= span ? t : 2 * span - t));
}

constexpr uint64_t kStreamScene = 0x5eed0001, kStreamMoving = 0x5eed0003;

}  // namespace

// [SECTION] Public API

const std::array<const char*, kShapeCount>& shape_names() {
  static const std::array<const char*, kShapeCount> names{"circle", "square", "triangle",
                                                          "star",   "cross",  "ring"};
  return names;
}
const char* shape_name(Shape s) { return shape_names()[static_cast<int>(s)]; }

SceneMode parse_scene_mode(const std::string& name) {
  if (name == "single") return SceneMode::Single;
  if (name == "pair") return SceneMode::Pair;
  if (name == "moving") return SceneMode::Moving;
  throw Error("unknown scene mode '" + name + "' (expected single, pair or moving)");
}

const char* scene_mode_name(SceneMode m) {
  switch (m) {
    case SceneMode::Single: return "single";
    case SceneMode::Pair: return "pair";
    default: return "moving";
  }
}

Scene make_scene(SceneMode mode, uint64_t seed, uint64_t index, int width, int height) {
  check_size(width, height);
  Scene sc;
  sc.width = width;
  sc.height = height;
  if (mode == SceneMode::Moving) {
    MovingWorld(seed, width, height).render(index, sc.rgb, &sc.objects);
    return sc;
  }
  Rng r(stream(kStreamScene + static_cast<uint64_t>(mode), seed, index));
  sc.rgb = make_background(r, width, height);
  const float m = static_cast<float>(std::min(width, height));
  const int count = mode == SceneMode::Pair ? 2 : 1;
  const int first = r.below(kShapeCount);
  for (int i = 0; i < count; ++i) {
    SceneObject o;
    // The second class differs from the first: pair scenes test class discrimination.
    o.shape = static_cast<Shape>(i == 0 ? first : (first + 1 + r.below(kShapeCount - 1)) % kShapeCount);
    for (int tries = 0;; ++tries) {
      o.radius = count == 1 ? r.uniform(0.10f, 0.22f) * m : r.uniform(0.09f, 0.17f) * m;
      if (tries > 50) o.radius = 0.09f * m;  // small enough to fit beside the first
      const float margin = o.radius + 0.02f * m;
      o.cx = r.uniform(margin, width - margin);
      o.cy = r.uniform(margin, height - margin);
      bool clear = true;
      for (const SceneObject& p : sc.objects)
        if (std::hypot(o.cx - p.cx, o.cy - p.cy) < o.radius + p.radius + 0.06f * m) clear = false;
      if (clear || tries > 200) break;
    }
    o.angle = r.uniform(0, 2 * kPi);
    o.color = contrasting_color(r, mean_under(sc.rgb, width, height, o.cx, o.cy, o.radius));
    draw_object(sc.rgb, width, height, o, r.uniform(0, 2 * kPi), r.uniform(0, 0.25f));
    sc.objects.push_back(o);
  }
  return sc;
}

MovingWorld::MovingWorld(uint64_t seed, int width, int height)
    : m_seed(seed), m_width(width), m_height(height) {
  check_size(width, height);
  Rng r(stream(kStreamMoving, seed, 0));
  m_background = make_background(r, width, height);
  const float m = static_cast<float>(std::min(width, height));
  // Three objects of distinct classes, so every class map has one right answer per frame.
  std::array<int, kShapeCount> order{0, 1, 2, 3, 4, 5};
  for (int i = kShapeCount - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
  for (int i = 0; i < 3; ++i) {
    Track t;
    t.shape = static_cast<Shape>(order[i]);
    t.radius = r.uniform(0.11f, 0.18f) * m;
    t.x0 = r.uniform(0, 4 * static_cast<float>(width));
    t.y0 = r.uniform(0, 4 * static_cast<float>(height));
    const float speed = r.uniform(0.004f, 0.012f) * m, dir = r.uniform(0, 2 * kPi);
    t.vx = speed * std::cos(dir);
    t.vy = speed * std::sin(dir);
    t.angle0 = r.uniform(0, 2 * kPi);
    t.spin = r.uniform(-0.03f, 0.03f);
    // Contrast against the background's overall mean (objects travel everywhere).
    t.color = contrasting_color(r, mean_under(m_background, width, height, width / 2.0f,
                                              height / 2.0f, m));
    m_tracks.push_back(t);
  }
}

void MovingWorld::render(uint64_t index, std::vector<uint8_t>& rgb,
                         std::vector<SceneObject>* objects) const {
  rgb.assign(m_background.begin(), m_background.end());
  if (objects) objects->clear();
  const auto t = static_cast<double>(index);
  for (const Track& tr : m_tracks) {
    SceneObject o;
    o.shape = tr.shape;
    o.radius = tr.radius;
    o.cx = bounce(tr.x0 + tr.vx * t, tr.radius + 1.0, m_width - tr.radius - 1.0);
    o.cy = bounce(tr.y0 + tr.vy * t, tr.radius + 1.0, m_height - tr.radius - 1.0);
    o.angle = static_cast<float>(std::fmod(tr.angle0 + tr.spin * t, 2 * 3.14159265358979));
    o.color = tr.color;
    draw_object(rgb, m_width, m_height, o, 0.8f, 0.12f);
    if (objects) objects->push_back(o);
  }
}

}  // namespace camscope::capture
