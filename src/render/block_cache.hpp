#pragma once
// Decoded source blocks shared by every rendering slot, bounded in bytes, least recently used out.
// Each slot reads through its own GDAL handle (GDAL 3.6 datasets are not thread-safe), and GDAL's
// block cache keeps blocks per handle: with two slots, every block of a pyramid was decoded and held
// twice. Here one copy serves all slots. No I/O: the caller decodes on a miss and puts the block.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sco::render {

struct BlockKey {
  std::string source;
  int level = -1;  // overview level, -1 for full resolution
  int band = 1;
  int bx = 0, by = 0;
  bool operator==(const BlockKey&) const = default;
};

using Block = std::shared_ptr<const std::vector<std::uint8_t>>;

class BlockCache {
 public:
  explicit BlockCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}
  // The block, or null; a hit becomes the most recently used.
  Block get(const BlockKey& key);
  // Keeps `block` (replacing an entry of the same key) and evicts the least recently used blocks
  // beyond the capacity; a block larger than the whole capacity is not kept.
  void put(const BlockKey& key, Block block);
  void set_capacity(std::size_t bytes);
  std::size_t bytes() const;
  std::size_t capacity() const;

 private:
  struct Hash {
    std::size_t operator()(const BlockKey& k) const;
  };
  struct Entry {
    BlockKey key;
    Block block;
  };
  void evict_locked();
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t bytes_ = 0;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<BlockKey, std::list<Entry>::iterator, Hash> index_;
};

}  // namespace sco::render
