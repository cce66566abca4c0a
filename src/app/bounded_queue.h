#pragma once
// A bounded multi-producer / multi-consumer FIFO: push blocks while full, pop while empty.
// close() wakes everyone: pushes are refused from then on, pops drain what is left and then
// return false. Export's decode-ahead queue; memory stays at `capacity` items however long the
// input.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

namespace camscope::app {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : m_capacity(capacity ? capacity : 1) {}

  // False when the queue was closed (the item is dropped).
  bool push(T item) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_not_full.wait(lock, [&] { return m_closed || m_items.size() < m_capacity; });
    if (m_closed) return false;
    m_items.push_back(std::move(item));
    m_not_empty.notify_one();
    return true;
  }
  // False when closed and drained, or when `timeout` passed with nothing to pop.
  template <typename Rep, typename Period>
  bool pop(T& out, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lock(m_mutex);
    if (!m_not_empty.wait_for(lock, timeout, [&] { return m_closed || !m_items.empty(); }))
      return false;
    if (m_items.empty()) return false;
    out = std::move(m_items.front());
    m_items.pop_front();
    m_not_full.notify_one();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closed = true;
    m_not_full.notify_all();
    m_not_empty.notify_all();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_closed;
  }

 private:
  const size_t m_capacity;
  mutable std::mutex m_mutex;
  std::condition_variable m_not_full, m_not_empty;
  std::deque<T> m_items;
  bool m_closed = false;
};

}  // namespace camscope::app
