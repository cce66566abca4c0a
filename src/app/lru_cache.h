#pragma once
// A small bounded least-recently-used map. The pipeline keeps a few dozen results, so a list
// scanned linearly beats hashing: no hash function to keep in sync with the key's fields.
#include <cstddef>
#include <list>
#include <utility>

namespace camscope::app {

template <class Key, class Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : m_capacity(capacity == 0 ? 1 : capacity) {}

  // The value for key (marked most recently used), or nullptr.
  const Value* get(const Key& key) {
    for (auto it = m_items.begin(); it != m_items.end(); ++it) {
      if (it->first == key) {
        m_items.splice(m_items.begin(), m_items, it);
        return &m_items.front().second;
      }
    }
    return nullptr;
  }
  // Inserts or replaces; evicts the least recently used entry beyond capacity.
  void put(const Key& key, Value value) {
    for (auto it = m_items.begin(); it != m_items.end(); ++it) {
      if (it->first == key) {
        m_items.erase(it);
        break;
      }
    }
    m_items.emplace_front(key, std::move(value));
    while (m_items.size() > m_capacity) m_items.pop_back();
  }
  void clear() { m_items.clear(); }
  size_t size() const { return m_items.size(); }
  size_t capacity() const { return m_capacity; }

 private:
  size_t m_capacity;
  std::list<std::pair<Key, Value>> m_items;
};

}  // namespace camscope::app
