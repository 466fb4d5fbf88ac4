#include "codec/overview_pyramid.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"

namespace sco::codec {

const char* resampling_name(Resampling r) { return r == Resampling::kNearest ? "NEAREST" : "AVERAGE"; }

std::vector<std::pair<int, int>> overview_sizes(int width, int height, int tile) {
  std::vector<std::pair<int, int>> out;
  for (int f = 2; width / (f / 2) > tile || height / (f / 2) > tile; f *= 2) {
    out.emplace_back(std::max(1, width / f), std::max(1, height / f));
    if (f > (1 << 29)) break;
  }
  return out;
}

namespace {

// The source pixels of one destination pixel along one axis, with their weights.
struct Span {
  int start = 0;
  int count = 0;
  std::vector<double> weights;
};

std::vector<Span> axis_spans(int src, int dst, Resampling r) {
  std::vector<Span> out(static_cast<std::size_t>(dst));
  const double ratio = static_cast<double>(src) / dst;
  for (int i = 0; i < dst; ++i) {
    Span& s = out[static_cast<std::size_t>(i)];
    if (r == Resampling::kNearest) {
      s.start = std::min(src - 1, static_cast<int>(std::floor(i * ratio + 0.5)));
      s.count = 1;
      s.weights = {1.0};
      continue;
    }
    const double lo = i * ratio, hi = (i + 1) * ratio;
    const int first = static_cast<int>(std::floor(lo));
    const int end = std::min(src, static_cast<int>(std::ceil(hi)));
    s.start = first;
    for (int k = first; k < end; ++k) {
      const double w = std::min(hi, k + 1.0) - std::max(lo, static_cast<double>(k));
      if (w > 0) s.weights.push_back(w);
      else if (s.weights.empty()) ++s.start;
    }
    s.count = static_cast<int>(s.weights.size());
  }
  return out;
}

template <typename T>
struct Pixels {
  bool has_nodata;
  T nodata;
  bool valid(T v) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return false;
    }
    return !has_nodata || v != nodata;
  }
  T from_mean(double m) const {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(m);
    } else {
      return static_cast<T>(std::floor(m + 0.5));
    }
  }
};

// The mean of each 2 x 2 block of two source rows (the sizes halve exactly): the same sums as the
// weighted loop below with weights of 1, without its bookkeeping.
template <typename T>
void halve_row(const T* a, const T* b, std::size_t width, int samples, const Pixels<T>& px, T* out) {
  const T fill = px.has_nodata ? px.nodata : T{};
  if (samples == 1) {  // without branches, for the vectoriser
    for (std::size_t i = 0; i < width; ++i) {
      const T v0 = a[2 * i], v1 = a[2 * i + 1], v2 = b[2 * i], v3 = b[2 * i + 1];
      const bool k0 = px.valid(v0), k1 = px.valid(v1), k2 = px.valid(v2), k3 = px.valid(v3);
      const double num = (((k0 ? static_cast<double>(v0) : 0.0) + (k1 ? static_cast<double>(v1) : 0.0)) + (k2 ? static_cast<double>(v2) : 0.0)) +
                         (k3 ? static_cast<double>(v3) : 0.0);
      const int n = k0 + k1 + k2 + k3;
      const T mean = px.from_mean(num / (n > 0 ? n : 1));
      out[i] = n > 0 ? mean : fill;
    }
    return;
  }
  for (std::size_t i = 0; i < width; ++i) {
    for (int s = 0; s < samples; ++s) {
      const std::size_t k = 2 * i * samples + s;
      const T v[4] = {a[k], a[k + samples], b[k], b[k + samples]};
      double num = 0.0;
      int n = 0;
      for (T x : v) {
        if (px.valid(x)) {
          num += static_cast<double>(x);
          ++n;
        }
      }
      out[i * samples + s] = n > 0 ? px.from_mean(num / n) : fill;
    }
  }
}

// One destination row from the source rows its span covers (`rows[k]` is source row y.start + k).
template <typename T>
void downsample_row(const std::vector<const T*>& rows, const Span& y, const std::vector<Span>& xs, int samples, Resampling r,
                    const Pixels<T>& px, T* out, bool halves) {
  const std::size_t width = xs.size();
  if (halves && r == Resampling::kAverage) {
    halve_row(rows[0], rows[1], width, samples, px, out);
    return;
  }
  if (r == Resampling::kNearest) {
    for (std::size_t i = 0; i < width; ++i) {
      for (int s = 0; s < samples; ++s) out[i * samples + s] = rows[0][static_cast<std::size_t>(xs[i].start) * samples + s];
    }
    return;
  }
  const T fill = px.has_nodata ? px.nodata : T{};
  for (std::size_t i = 0; i < width; ++i) {
    const Span& x = xs[i];
    for (int s = 0; s < samples; ++s) {
      double num = 0.0, den = 0.0;
      for (int k = 0; k < y.count; ++k) {
        const T* row = rows[static_cast<std::size_t>(k)] + static_cast<std::size_t>(x.start) * samples + s;
        const double wy = y.weights[static_cast<std::size_t>(k)];
        for (int c = 0; c < x.count; ++c) {
          const T v = row[static_cast<std::size_t>(c) * samples];
          if (!px.valid(v)) continue;
          const double wx = x.weights[static_cast<std::size_t>(c)];
          num += static_cast<double>(v) * wx * wy;
          den += wx * wy;
        }
      }
      out[i * samples + s] = den > 0 ? px.from_mean(num / den) : fill;
    }
  }
}

}  // namespace

struct OverviewPyramid::Level {
  int width = 0, height = 0;
  int first_row = 0;  // the row of this level that data starts with
  int rows = 0;       // rows held
  std::vector<std::byte> data;
  int bands_done = 0;  // bands of tiles handed to the sink
  int next_row = 0;    // the next row of the level after this one to compute
  std::vector<Span> xs, ys;  // the next level's pixels over this level's
  bool halves = false;       // the next level is exactly half this one's size
};

OverviewPyramid::OverviewPyramid(const PyramidShape& shape, TileSink sink)
    : shape_(shape), sink_(std::move(sink)), pixel_bytes_(core::size_of(shape.type) * static_cast<std::size_t>(shape.samples)) {
  std::vector<std::pair<int, int>> sizes = {{shape.width, shape.height}};
  if (shape.levels != 0) {
    for (const auto& s : overview_sizes(shape.width, shape.height, shape.tile)) {
      if (shape.levels > 0 && static_cast<int>(sizes.size()) > shape.levels) break;
      sizes.push_back(s);
    }
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto l = std::make_unique<Level>();
    l->width = sizes[i].first;
    l->height = sizes[i].second;
    if (i + 1 < sizes.size()) {
      l->xs = axis_spans(l->width, sizes[i + 1].first, shape.resampling);
      l->ys = axis_spans(l->height, sizes[i + 1].second, shape.resampling);
      l->halves = l->width == 2 * sizes[i + 1].first && l->height == 2 * sizes[i + 1].second;
    }
    levels_.push_back(std::move(l));
  }
}

OverviewPyramid::~OverviewPyramid() = default;

std::pair<int, int> OverviewPyramid::size(int level) const { return {levels_.at(level)->width, levels_.at(level)->height}; }

std::int64_t OverviewPyramid::tiles(int level) const {
  const auto [w, h] = size(level);
  const std::int64_t t = shape_.tile;
  return ((w + t - 1) / t) * ((h + t - 1) / t);
}

void OverviewPyramid::add_full_tile(std::int64_t index, const std::byte* pixels) {
  if (index != next_full_) core::fail(core::ErrorCode::kInternal, "overviews: tile {} arrived before tile {}", index, next_full_);
  ++next_full_;
  if (levels_.size() < 2) return;
  const Level& l = *levels_[0];
  const int t = shape_.tile;
  const int ntx = (l.width + t - 1) / t;
  const int tx = static_cast<int>(index % ntx), ty = static_cast<int>(index / ntx);
  const int band_rows = std::min(t, l.height - ty * t);
  const std::size_t row_bytes = static_cast<std::size_t>(l.width) * pixel_bytes_;
  if (tx == 0) incoming_.resize(static_cast<std::size_t>(band_rows) * row_bytes);
  const int cols = std::min(t, l.width - tx * t);
  for (int r = 0; r < band_rows; ++r) {
    std::memcpy(incoming_.data() + static_cast<std::size_t>(r) * row_bytes + static_cast<std::size_t>(tx) * t * pixel_bytes_,
                pixels + static_cast<std::size_t>(r) * t * pixel_bytes_, static_cast<std::size_t>(cols) * pixel_bytes_);
  }
  if (tx == ntx - 1) {
    std::lock_guard lock(bands_mutex_);
    bands_.emplace_back(band_rows, std::move(incoming_));
    incoming_ = {};
  }
}

bool OverviewPyramid::bands_waiting() {
  std::lock_guard lock(bands_mutex_);
  return !bands_.empty();
}

bool OverviewPyramid::advance(bool wait) {
  std::unique_lock work(advance_mutex_, std::defer_lock);
  if (wait) {
    work.lock();
  } else if (!work.try_lock()) {
    return false;
  }
  for (;;) {
    std::pair<int, std::vector<std::byte>> band;
    {
      std::lock_guard lock(bands_mutex_);
      if (bands_.empty()) return true;
      band = std::move(bands_.front());
      bands_.pop_front();
    }
    Level& l = *levels_[0];
    if (l.rows == 0) {
      l.data = std::move(band.second);  // nothing kept from the band before (sizes halving exactly): no copy
    } else {
      const std::size_t held = static_cast<std::size_t>(l.rows) * l.width * pixel_bytes_;
      l.data.resize(held + band.second.size());
      std::memcpy(l.data.data() + held, band.second.data(), band.second.size());
    }
    push_rows(0, band.first);
  }
}

void OverviewPyramid::push_rows(std::size_t level, int rows) {
  levels_[level]->rows += rows;
  if (level > 0) emit_bands(level);
  if (level + 1 < levels_.size()) compute_next(level);
  trim(level);
}

void OverviewPyramid::emit_bands(std::size_t level) {
  Level& l = *levels_[level];
  const int t = shape_.tile;
  const int ntx = (l.width + t - 1) / t;
  const std::size_t row_bytes = static_cast<std::size_t>(l.width) * pixel_bytes_;
  while (l.bands_done * t < l.height) {
    const int start = l.bands_done * t, end = std::min(l.height, start + t);
    if (l.first_row + l.rows < end) return;
    for (int tx = 0; tx < ntx; ++tx) {
      std::vector<std::byte> tile(static_cast<std::size_t>(t) * t * pixel_bytes_);
      core::fill(tile.data(), static_cast<std::size_t>(t) * t * shape_.samples, shape_.type, shape_.has_nodata ? shape_.nodata : 0.0);
      const int cols = std::min(t, l.width - tx * t);
      for (int r = start; r < end; ++r) {
        std::memcpy(tile.data() + static_cast<std::size_t>(r - start) * t * pixel_bytes_,
                    l.data.data() + static_cast<std::size_t>(r - l.first_row) * row_bytes + static_cast<std::size_t>(tx) * t * pixel_bytes_,
                    static_cast<std::size_t>(cols) * pixel_bytes_);
      }
      sink_(static_cast<int>(level), static_cast<std::int64_t>(l.bands_done) * ntx + tx, std::move(tile));
    }
    ++l.bands_done;
  }
}

namespace {

template <typename T>
int compute_rows(const std::byte* src, int src_first, int src_rows, int src_width, const std::vector<Span>& xs, const std::vector<Span>& ys,
                 bool halves, int& next_row, int dst_height, int samples, Resampling r, const PyramidShape& shape, std::vector<std::byte>& dst,
                 std::size_t dst_offset) {
  const Pixels<T> px{shape.has_nodata, static_cast<T>(shape.has_nodata ? shape.nodata : 0.0)};
  const std::size_t src_row = static_cast<std::size_t>(src_width) * samples;
  const std::size_t dst_row = xs.size() * samples;
  int made = 0;
  std::vector<const T*> rows;
  while (next_row < dst_height) {
    const Span& y = ys[static_cast<std::size_t>(next_row)];
    if (y.start + y.count > src_first + src_rows) break;
    rows.clear();
    for (int k = 0; k < y.count; ++k) rows.push_back(reinterpret_cast<const T*>(src) + static_cast<std::size_t>(y.start + k - src_first) * src_row);
    dst.resize(dst_offset + (made + 1) * dst_row * sizeof(T));
    downsample_row(rows, y, xs, samples, r, px, reinterpret_cast<T*>(dst.data() + dst_offset) + made * dst_row, halves);
    ++made;
    ++next_row;
  }
  return made;
}

}  // namespace

void OverviewPyramid::compute_next(std::size_t level) {
  Level& l = *levels_[level];
  Level& n = *levels_[level + 1];
  const std::size_t offset = static_cast<std::size_t>(n.rows) * n.width * pixel_bytes_;
  int made = 0;
  auto run = [&](auto zero) {
    using T = decltype(zero);
    made = compute_rows<T>(l.data.data(), l.first_row, l.rows, l.width, l.xs, l.ys, l.halves, l.next_row, n.height, shape_.samples, shape_.resampling,
                           shape_, n.data, offset);
  };
  switch (shape_.type) {
    case core::DataType::kByte: run(std::uint8_t{}); break;
    case core::DataType::kInt8: run(std::int8_t{}); break;
    case core::DataType::kUInt16: run(std::uint16_t{}); break;
    case core::DataType::kInt16: run(std::int16_t{}); break;
    case core::DataType::kUInt32: run(std::uint32_t{}); break;
    case core::DataType::kInt32: run(std::int32_t{}); break;
    case core::DataType::kFloat32: run(float{}); break;
    case core::DataType::kFloat64: run(double{}); break;
  }
  if (made > 0) push_rows(level + 1, made);
}

void OverviewPyramid::trim(std::size_t level) {
  Level& l = *levels_[level];
  int keep = l.first_row + l.rows;
  if (level > 0) keep = std::min(keep, l.bands_done * shape_.tile);
  if (level + 1 < levels_.size() && l.next_row < levels_[level + 1]->height) keep = std::min(keep, l.ys[static_cast<std::size_t>(l.next_row)].start);
  if (keep <= l.first_row) return;
  const std::size_t row_bytes = static_cast<std::size_t>(l.width) * pixel_bytes_;
  const int drop = keep - l.first_row;
  std::memmove(l.data.data(), l.data.data() + drop * row_bytes, static_cast<std::size_t>(l.rows - drop) * row_bytes);
  l.rows -= drop;
  l.first_row = keep;
  l.data.resize(static_cast<std::size_t>(l.rows) * row_bytes);
}

}  // namespace sco::codec
