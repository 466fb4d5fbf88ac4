#pragma once
// A run's inputs, typed: each named input of the recipe is one or more sources (a file, a band of it,
// a variable of a container, a catalog item's asset), with the date of each when known. Resolving
// opens every source, checks its bands against the input's kind and orders a cube's time steps.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/store.hpp"
#include "core/grid.hpp"
#include "cube/cf_time.hpp"
#include "indicators/recipe.hpp"
#include "io/block_pipeline.hpp"

namespace sco::run {

struct InputSource {
  std::string given;  // as the caller wrote it (recorded in the provenance)
  std::string path;   // file or GDAL subdataset name
  std::string file;   // the file on disk
  int band = 0;       // 0: all bands
  std::optional<cube::DateTime> date;

  // A file (or a band of it), optionally dated.
  static InputSource raster(const std::string& file, int band = 0, std::optional<cube::DateTime> date = std::nullopt);
  // A variable of a NetCDF / HDF file ("tas"): the subdataset, checked to exist.
  static InputSource variable(const std::string& file, const std::string& variable);
  // An asset of an item of this node's catalog (default: its "data" asset), dated by the item.
  static InputSource catalog_item(const catalog::CatalogStore& store, const std::string& collection, const std::string& item,
                                  const std::string& asset = "data");
};

struct RunInput {
  std::string name;
  std::vector<InputSource> sources;
};

// "NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]" (the command line's form). Errors name the input.
std::pair<std::string, InputSource> parse_input(const std::string& text);
// The inputs of several such texts, a cube's files gathered under its name in the order given.
// "NAME=collection:ID[:BAND][?bbox=W,S,E,N&datetime=START/END]" takes every item of a collection of
// `store` (those meeting the bbox and interval), in date order, each by its asset BAND (an asset key,
// or a band's eo name or common name: B04, red; default: the "data" asset).
std::vector<RunInput> parse_inputs(const std::vector<std::string>& texts, const catalog::CatalogStore* store = nullptr);
// The sources of one "collection:..." text (without "NAME=").
std::vector<InputSource> collection_sources(const catalog::CatalogStore& store, const std::string& spec, const std::string& name);

// "YYYY-MM-DD" / "YYYYMMDD" / "YYYY:MM:DD" found in a text (a file name, a TIFF tag).
std::optional<cube::DateTime> find_date(const std::string& text);

struct Source {
  InputSource in;
  core::Grid grid{};     // the source's own grid
  core::DataType type = core::DataType::kFloat32;  // its band's sample type (the first band's when none is given)
  std::string prepared{};  // the VRT on the working grid
  bool warped = false;
  // Where the working grid lies in the source when the VRT is a plain window of it: pipelines then
  // read the source's blocks themselves (no copy through the VRT).
  std::optional<core::Window> window{};
};

struct ResolvedInput {
  const indicators::InputDecl* decl = nullptr;
  std::vector<Source> sources;
  // The time steps: (source index, band) and their dates (empty when unknown).
  std::vector<std::pair<std::size_t, int>> steps;
  std::vector<cube::DateTime> dates;
  cube::Calendar calendar = cube::Calendar::kStandard;
  std::string time_note;

  std::string dates_text() const;  // "1999-01-16..1999-12-16" or "no dates"
  // The prepared file and band of time step `i`.
  std::pair<std::string, int> step_band(std::size_t i) const;
  // Time step `i` as a pipeline reads it: the prepared file, or the source's window of it.
  io::PipelineInput step_input(std::size_t i) const;
};

// Every declared input given, nothing unknown, each source opened; cubes get their steps and dates.
std::map<std::string, ResolvedInput> resolve_inputs(const indicators::Recipe& recipe, const std::vector<RunInput>& inputs);

}  // namespace sco::run
