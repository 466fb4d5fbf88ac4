#pragma once
// A raster being written: created under a temporary name beside its final path, renamed only when
// complete, removed if anything fails, so a reader never sees a half-written file.
//
// Formats: COG (default) is a cloud-optimised GeoTIFF, DEFLATE-compressed with overviews, which
// sco's own writer makes (io/cog_writer); this class makes it only for codecs or resamplings only
// GDAL has (LZW, JPEG, WEBP, LERC, MODE...): an uncompressed tiled staging file that GDAL's COG
// driver then lays out. GTiff is a tiled GeoTIFF written directly: this class when COMPRESS is given
// or the output has several bands, io/in_place_tiff otherwise.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/data_type.hpp"
#include "core/grid.hpp"
#include "core/progress.hpp"

class GDALDataset;
class GDALRasterBand;

namespace sco::io {

enum class OutputFormat { kCog, kGTiff };
OutputFormat parse_output_format(const std::string& name);  // "cog" | "gtiff", any case

struct OutputSpec {
  std::string path;
  core::DataType type = core::DataType::kFloat32;
  double nodata = 0.0;
  OutputFormat format = OutputFormat::kCog;
  std::vector<std::string> creation_options;  // KEY=VALUE, override sco's defaults
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string band_description;
  // Several bands (e.g. one per year): the pipeline's output windows hold one plane per band, and GDAL
  // writes the file (sco's COG writer is one-band). Descriptions per band, when given.
  int bands = 1;
  int tile = 0;  // the tile size GDAL writes in (and the pipeline's windows), 0: the inputs' or 512
  std::vector<std::string> band_descriptions;
};

// A hidden name beside `final_path` to write under until the file is complete (then renamed): unique
// in the process, with the final name's extension.
std::string temp_name(const std::string& final_path, const char* tag);
// sco's creation options of a cloud-optimised GeoTIFF.
std::vector<std::string> cog_options(bool is_float, int threads);

// Gives a new dataset the grid's geotransform and CRS and the spec's metadata, and each band its
// nodata and description.
void describe_dataset(GDALDataset* ds, const core::Grid& grid, const OutputSpec& spec);

// `s` in upper case (ASCII): creation options compare so, whatever case users give them in.
std::string ascii_upper(std::string s);

// Fails with one line naming the path when the output cannot be written there (no folder, not
// writable, or the path is a folder).
void check_output_path(const std::string& path);

class RasterOutput {
 public:
  // preferred_block: the tile size to write in (usually the inputs' tile size), 0 for sco's default.
  RasterOutput(OutputSpec spec, const core::Grid& grid, int threads, int preferred_block);
  ~RasterOutput();
  RasterOutput(const RasterOutput&) = delete;
  RasterOutput& operator=(const RasterOutput&) = delete;

  GDALRasterBand* band(int k = 1) const;
  int block_width() const { return block_width_; }
  int block_height() const { return block_height_; }
  const OutputSpec& spec() const { return spec_; }

  // Flushes, converts to COG if asked, renames to the final path. `progress` may be null.
  void commit(core::Progress* progress);

 private:
  OutputSpec spec_;
  int threads_;
  std::string staging_path_;
  std::string final_tmp_path_;
  GDALDataset* ds_ = nullptr;
  int block_width_ = 0;
  int block_height_ = 0;
  bool committed_ = false;
};

}  // namespace sco::io
