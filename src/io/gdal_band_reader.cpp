#include "io/gdal_band_reader.hpp"

#include <gdal_priv.h>

#include <map>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/mapped_blocks.hpp"
#include "io/raster_dataset.hpp"

namespace sco::io {

namespace {

class GdalBandReader : public zonal::BandReader {
 public:
  GdalBandReader(const std::vector<BandSpec>& bands, const BandSpec& weights) {
    for (const auto& b : bands) slots_.push_back(open_slot(b));
    // Several bands of one file (dates of a stack) are read with one dataset-level RasterIO per
    // window: each file block is then decoded once for all of them.
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      int n = 0;
      for (std::size_t j = 0; j < slots_.size(); ++j) {
        if (slots_[j].dataset == slots_[i].dataset && slots_[j].info.type == slots_[i].info.type && !slots_[j].mask) {
          if (j < i) slots_[i].group_index++;
          n++;
        }
      }
      if (!slots_[i].mask) slots_[i].group_size = n;
    }
    if (!weights.path.empty()) {
      weights_ = std::make_unique<Slot>(open_slot(weights));
    }
  }
  int band_count() const override { return static_cast<int>(slots_.size()); }
  ~GdalBandReader() override {
    for (auto& s : slots_) release(s);
    if (weights_) release(*weights_);
  }
  core::BlockView read(int band, const core::Window& w) override {
    Slot& s = slots_[static_cast<std::size_t>(band)];
    if (!s.mask && inside_one_block(s, w)) return read_in_block(s, w);
    if (s.group_size > 1) return read_grouped(s, w);
    return read_slot(s, w);
  }
  int segment_width() const override {
    int width = 0;
    for (const auto& s : slots_) {
      if (s.mask) return 0;
      if (width == 0) width = s.info.block_width;
      if (s.info.block_width != width) return 0;
    }
    return width;
  }
  bool has_weights() const override { return weights_ != nullptr; }
  void done_above(int y) override {
    for (auto& s : slots_) {
      if (s.mapped) s.mapped->release_above(y);
    }
    if (weights_ && weights_->mapped) weights_->mapped->release_above(y);
  }
  void done_left_of(int x, int y0, int y1) override {
    for (auto& s : slots_) {
      if (s.mapped) s.mapped->release_left_of(x, y0, y1);
    }
    if (weights_ && weights_->mapped) weights_->mapped->release_left_of(x, y0, y1);
  }
  core::BlockView read_weights(const core::Window& w) override {
    if (!weights_->mask && inside_one_block(*weights_, w)) return read_in_block(*weights_, w);
    return read_slot(*weights_, w);
  }

 private:
  struct Slot {
    std::size_t dataset = 0;
    int group_size = 1;   // bands read from this dataset (of the same type) in one RasterIO
    int group_index = 0;  // this band's place in that read
    std::string path;
    GDALRasterBand* band = nullptr;
    GDALRasterBand* mask = nullptr;
    BandInfo info;
    std::vector<std::byte> buffer;
    std::vector<std::uint8_t> mask_buffer;
    GDALRasterBlock* locked = nullptr;  // the cached block handed out by the last read
    std::unique_ptr<MappedBand> mapped;  // blocks straight from the file (mapped or shared copies)
  };

  // A view of `w` in memory laid out with `pitch` elements per row, with the band's properties.
  static core::BlockView view_of(const Slot& s, const void* data, std::ptrdiff_t pitch, const core::Window& w) {
    core::BlockView v;
    v.type = s.info.type;
    v.data = data;
    v.pitch = pitch;
    v.width = w.width;
    v.height = w.height;
    v.nodata = s.info.nodata;
    v.scale = s.info.scale;
    v.offset = s.info.offset;
    return v;
  }

  static void release(Slot& s) {
    if (s.locked) {
      s.locked->DropLock();
      s.locked = nullptr;
    }
  }

  static bool inside_one_block(const Slot& s, const core::Window& w) {
    const int bw = s.info.block_width, bh = s.info.block_height;
    return w.width > 0 && w.height > 0 && w.x / bw == (w.x + w.width - 1) / bw && w.y / bh == (w.y + w.height - 1) / bh;
  }

  // A view of window `w` inside the block whose first byte is `block` (block_width values a row).
  static core::BlockView view_in_block(const Slot& s, const std::byte* block, const core::Window& w) {
    const int bw = s.info.block_width, bh = s.info.block_height;
    const std::ptrdiff_t offset = static_cast<std::ptrdiff_t>(w.y % bh) * bw + w.x % bw;
    return view_of(s, block + offset * static_cast<std::ptrdiff_t>(core::size_of(s.info.type)), bw, w);
  }

  // A window inside one block: a view into the file's mapping or its shared copy of the block when
  // the block is stored as used, else into GDAL's cached block.
  core::BlockView read_in_block(Slot& s, const core::Window& w) {
    if (s.mapped) {
      if (const std::byte* block = s.mapped->block(w.x / s.info.block_width, w.y / s.info.block_height)) {
        return view_in_block(s, block, w);
      }
    }
    return read_cached(s, w);
  }

  // A window inside one block: a view into GDAL's cached block, without copying. The block stays
  // locked (never evicted) until this band's next read.
  core::BlockView read_cached(Slot& s, const core::Window& w) {
    const int bw = s.info.block_width, bh = s.info.block_height;
    const int bx = w.x / bw, by = w.y / bh;
    if (!s.locked || s.locked->GetXOff() != bx || s.locked->GetYOff() != by) {
      release(s);
      clear_gdal_error();
      s.locked = s.band->GetLockedBlockRef(bx, by);
      if (!s.locked) {
        core::fail(core::ErrorCode::kIo, "reading '{}' block ({}, {}) failed: {}", s.path, bx, by, take_gdal_error());
      }
    }
    return view_in_block(s, static_cast<const std::byte*>(s.locked->GetDataRef()), w);
  }

  Slot open_slot(const BandSpec& spec) {
    const std::size_t k = datasets_.open(spec.path);
    Slot s;
    s.dataset = k;
    s.path = spec.path;
    s.band = datasets_[k].band_handle(spec.band);
    s.info = datasets_[k].band(spec.band);
    if (s.info.has_mask) s.mask = s.band->GetMaskBand();
    if (!s.mask) {
      s.mapped = MappedBand::open(datasets_[k], spec.band, mapping_pays(spec.path) ? BlockAccess::kMap : BlockAccess::kCopy);
    }
    return s;
  }

  core::BlockView read_slot(Slot& s, const core::Window& w) {
    const std::size_t elem = core::size_of(s.info.type);
    s.buffer.resize(static_cast<std::size_t>(w.pixels()) * elem);
    clear_gdal_error();
    if (s.band->RasterIO(GF_Read, w.x, w.y, w.width, w.height, s.buffer.data(), w.width, w.height,
                         static_cast<GDALDataType>(to_gdal_type(s.info.type)), 0, 0, nullptr) != CE_None) {
      core::fail(core::ErrorCode::kIo, "reading '{}' window at ({}, {}) failed: {}", s.path, w.x, w.y, take_gdal_error());
    }
    core::BlockView v = view_of(s, s.buffer.data(), w.width, w);
    if (s.mask) {
      s.mask_buffer.resize(static_cast<std::size_t>(w.pixels()));
      if (s.mask->RasterIO(GF_Read, w.x, w.y, w.width, w.height, s.mask_buffer.data(), w.width, w.height, GDT_Byte, 0, 0,
                           nullptr) != CE_None) {
        core::fail(core::ErrorCode::kIo, "reading the mask of '{}' failed: {}", s.path, take_gdal_error());
      }
      v.mask = s.mask_buffer.data();
      v.mask_pitch = w.width;
    }
    return v;
  }

  // One RasterIO for every grouped band of the slot's file, cached for the window.
  core::BlockView read_grouped(Slot& s, const core::Window& w) {
    Group& g = groups_[s.dataset];
    if (!(g.window == w) || !g.loaded) {
      std::vector<int> band_map;
      for (const auto& other : slots_) {
        if (other.dataset == s.dataset && other.group_size > 1 && other.info.type == s.info.type) {
          band_map.push_back(other.info.index);
        }
      }
      const std::size_t elem = core::size_of(s.info.type);
      g.buffer.resize(static_cast<std::size_t>(w.pixels()) * elem * band_map.size());
      clear_gdal_error();
      if (datasets_[s.dataset].handle()->RasterIO(GF_Read, w.x, w.y, w.width, w.height, g.buffer.data(), w.width,
                                                  w.height, static_cast<GDALDataType>(to_gdal_type(s.info.type)),
                                                  static_cast<int>(band_map.size()), band_map.data(), 0, 0, 0,
                                                  nullptr) != CE_None) {
        core::fail(core::ErrorCode::kIo, "reading '{}' window at ({}, {}) failed: {}", s.path, w.x, w.y,
                   take_gdal_error());
      }
      g.window = w;
      g.loaded = true;
    }
    return view_of(s,
                   g.buffer.data() + static_cast<std::size_t>(s.group_index) * static_cast<std::size_t>(w.pixels()) *
                                         core::size_of(s.info.type),
                   w.width, w);
  }

  struct Group {
    core::Window window;
    bool loaded = false;
    std::vector<std::byte> buffer;
  };
  std::map<std::size_t, Group> groups_;
  DatasetSet datasets_;
  std::vector<Slot> slots_;
  std::unique_ptr<Slot> weights_;
};

}  // namespace

std::unique_ptr<zonal::BandReader> make_gdal_band_reader(const std::vector<BandSpec>& bands, const BandSpec& weights) {
  return std::make_unique<GdalBandReader>(bands, weights);
}

}  // namespace sco::io
