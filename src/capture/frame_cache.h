#pragma once
// LRU cache of decoded frames bounded in bytes: stepping back and forth over recently seen
// video frames costs a copy instead of a keyframe seek and a decode. Thread-safe (the decode
// thread fills it, the caller's thread reads it).
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "capture/frame_source.h"

namespace camscope::capture {

class FrameCache {
 public:
  explicit FrameCache(int64_t budget_bytes) : m_budget(budget_bytes) {}

  // Copies the cached frame into out (reusing out's buffer) and marks it recently used.
  bool get(int64_t index, Frame& out) {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_map.find(index);
    if (it == m_map.end()) return false;
    m_lru.splice(m_lru.begin(), m_lru, it->second);
    const Frame& f = *it->second->second;
    out.index = f.index;
    out.pts = f.pts;
    out.width = f.width;
    out.height = f.height;
    out.rgb.assign(f.rgb.begin(), f.rgb.end());
    return true;
  }
  std::shared_ptr<const Frame> find(int64_t index) {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_map.find(index);
    if (it == m_map.end()) return nullptr;
    m_lru.splice(m_lru.begin(), m_lru, it->second);
    return it->second->second;
  }
  bool contains(int64_t index) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_map.count(index) != 0;
  }
  // Frames that do not fit (or are evicted) become spares for take_spare().
  void put(std::shared_ptr<Frame> frame) {
    const int64_t bytes = static_cast<int64_t>(frame->rgb.size());
    std::lock_guard<std::mutex> lock(m_mutex);
    if (bytes > m_budget) {
      keep_spare(std::move(frame));
      return;
    }
    auto it = m_map.find(frame->index);
    if (it != m_map.end()) {
      m_used -= static_cast<int64_t>(it->second->second->rgb.size());
      m_lru.erase(it->second);
      m_map.erase(it);
    }
    m_lru.emplace_front(frame->index, std::move(frame));
    m_map[m_lru.front().first] = m_lru.begin();
    m_used += bytes;
    while (m_used > m_budget && !m_lru.empty()) {
      m_used -= static_cast<int64_t>(m_lru.back().second->rgb.size());
      m_map.erase(m_lru.back().first);
      keep_spare(std::move(m_lru.back().second));
      m_lru.pop_back();
    }
  }
  // A frame no one else holds any more, so its pixel buffer can be reused instead of
  // allocating (and page-faulting) megabytes per decoded frame; a new one when none is free.
  std::shared_ptr<Frame> take_spare() {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (size_t i = 0; i < m_spares.size(); ++i) {
      if (m_spares[i].use_count() == 1) {
        std::shared_ptr<Frame> f = std::move(m_spares[i]);
        m_spares.erase(m_spares.begin() + static_cast<std::ptrdiff_t>(i));
        return f;
      }
    }
    return std::make_shared<Frame>();
  }
  int64_t budget() const { return m_budget; }
  int64_t used_bytes() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_used;
  }

 private:
  void keep_spare(std::shared_ptr<Frame> f) {  // m_mutex held
    if (m_spares.size() < kMaxSpares) m_spares.push_back(std::move(f));
  }

  static constexpr size_t kMaxSpares = 4;
  using Entry = std::pair<int64_t, std::shared_ptr<Frame>>;
  mutable std::mutex m_mutex;
  int64_t m_budget;
  int64_t m_used = 0;
  std::list<Entry> m_lru;  // most recently used first
  std::unordered_map<int64_t, std::list<Entry>::iterator> m_map;
  std::vector<std::shared_ptr<Frame>> m_spares;
};

}  // namespace camscope::capture
