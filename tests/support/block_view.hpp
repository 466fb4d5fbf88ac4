#pragma once
// A block view over a test's buffer: `w` x `h` values of `type`, rows one after another.
#include "core/block.hpp"

namespace sco::test {

inline core::BlockView block_view(core::DataType type, const void* data, int w, int h) {
  core::BlockView v;
  v.type = type;
  v.data = data;
  v.pitch = w;
  v.width = w;
  v.height = h;
  return v;
}

}  // namespace sco::test
