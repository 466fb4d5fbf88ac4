#include "render/block_cache.hpp"

#include <functional>

namespace sco::render {

std::size_t BlockCache::Hash::operator()(const BlockKey& k) const {
  std::size_t h = std::hash<std::string>{}(k.source);
  for (const int v : {k.level, k.band, k.bx, k.by}) h = h * 1000003u ^ std::hash<int>{}(v);
  return h;
}

Block BlockCache::get(const BlockKey& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->block;
}

void BlockCache::put(const BlockKey& key, Block block) {
  if (!block) return;
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->block->size();
    order_.erase(it->second);
    index_.erase(it);
  }
  if (block->size() > capacity_) return;
  bytes_ += block->size();
  order_.push_front(Entry{key, std::move(block)});
  index_[key] = order_.begin();
  evict_locked();
}

void BlockCache::set_capacity(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  capacity_ = bytes;
  evict_locked();
}

std::size_t BlockCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t BlockCache::capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

void BlockCache::evict_locked() {
  while (bytes_ > capacity_ && !order_.empty()) {
    bytes_ -= order_.back().block->size();
    index_.erase(order_.back().key);
    order_.pop_back();
  }
}

}  // namespace sco::render
