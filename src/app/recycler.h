#pragma once
// Objects recycled through their shared_ptr's deleter: when the last holder lets go, the object
// comes back here and a later acquire() hands it out again, so its vectors keep their capacity
// and steady work allocates none. An object is reused only after every holder released it, so
// whatever was published stays immutable. Each deleter keeps the recycler alive, so objects may
// outlive their owner.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace camscope::app {

template <class T>
class Recycler : public std::enable_shared_from_this<Recycler<T>> {
 public:
  // keep: how many released objects wait for reuse (more are freed); reset: run on each released
  // object (default: none, the next user overwrites everything).
  static std::shared_ptr<Recycler> create(size_t keep, std::function<void(T&)> reset = {}) {
    return std::shared_ptr<Recycler>(new Recycler(keep, std::move(reset)));
  }

  std::shared_ptr<T> acquire() {
    std::unique_ptr<T> p;
    {
      std::lock_guard<std::mutex> lk(m_mu);
      if (!m_free.empty()) {
        p = std::move(m_free.back());
        m_free.pop_back();
      }
    }
    if (!p) {
      p = std::make_unique<T>();
      m_allocations.fetch_add(1, std::memory_order_relaxed);
    }
    std::shared_ptr<Recycler> self = this->shared_from_this();
    return std::shared_ptr<T>(p.release(), [self](T* q) { self->release(q); });
  }

  // Objects created because none was free to reuse, since the start.
  uint64_t allocations() const { return m_allocations.load(std::memory_order_relaxed); }

 private:
  Recycler(size_t keep, std::function<void(T&)> reset) : m_keep(keep), m_reset(std::move(reset)) {}
  void release(T* q) {
    std::unique_ptr<T> p(q);
    if (m_reset) m_reset(*p);  // here, so that what it references is let go at once
    std::lock_guard<std::mutex> lk(m_mu);
    if (m_free.size() < m_keep) m_free.push_back(std::move(p));
  }

  const size_t m_keep;
  const std::function<void(T&)> m_reset;
  std::mutex m_mu;
  std::vector<std::unique_ptr<T>> m_free;
  std::atomic<uint64_t> m_allocations{0};
};

}  // namespace camscope::app
