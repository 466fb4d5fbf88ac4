// Spectral indices as expression jobs (`sco index`, the demo, a recipe's index.NAME steps).
#include <fmt/format.h>

#include "algebra/spectral_index.hpp"
#include "core/error.hpp"
#include "io/raster_dataset.hpp"
#include "run/expression_job.hpp"

namespace sco::run {

using core::ErrorCode;

std::string index_ids() {
  std::string s;
  for (const auto& i : algebra::spectral_indices()) s += (s.empty() ? "" : ", ") + std::string(i.id);
  return s;
}

std::string sensor_ids() {
  std::string s;
  for (const auto& x : algebra::sensors()) s += (s.empty() ? "" : ", ") + std::string(x.id);
  return s;
}

ExpressionJob build_index_job(const IndexRequest& req, std::vector<std::string>& warnings) {
  const algebra::SpectralIndex* index = algebra::find_index(req.index);
  if (!index) core::fail(ErrorCode::kInvalidInput, "unknown index '{}' (indices: {})", req.index, index_ids());

  std::vector<std::pair<algebra::BandRole, io::BandRef>> roles;
  if (!req.sensor.empty()) {
    const algebra::Sensor* sensor = algebra::find_sensor(req.sensor);
    if (!sensor) core::fail(ErrorCode::kInvalidInput, "unknown sensor '{}' (sensors: {})", req.sensor, sensor_ids());
    if (req.input.empty()) core::fail(ErrorCode::kInvalidInput, "--sensor needs --input FILE (a multi-band file)");
    const io::RasterDataset ds = io::RasterDataset::open(req.input);
    const algebra::SensorLayout* layout = algebra::find_layout(*sensor, ds.band_count());
    if (!layout) {
      std::string counts;
      for (const auto& l : sensor->layouts) counts += (counts.empty() ? "" : ", ") + std::to_string(l.band_count);
      core::fail(ErrorCode::kInvalidInput,
                 "'{}' has {} bands; no {} band layout with {} bands is known ({} bands are); give the bands with "
                 "--band ROLE=FILE:BAND",
                 req.input, ds.band_count(), sensor->id, ds.band_count(), counts);
    }
    for (const auto& [role, band] : layout->bands) roles.emplace_back(role, io::BandRef{req.input, band, true});
  } else if (!req.input.empty() && req.bands.empty()) {
    core::fail(ErrorCode::kInvalidInput, "--input needs --sensor ({}) to know which band is which, or use --band",
               sensor_ids());
  }
  for (const auto& [role_name, ref] : req.bands) {
    const auto role = algebra::parse_role(role_name);
    if (!role) {
      core::fail(ErrorCode::kInvalidInput, "--band '{}={}': unknown band role '{}' (roles: blue, green, red, nir, swir1, swir2)",
                 role_name, ref.path, role_name);
    }
    bool replaced = false;
    for (auto& [r, existing] : roles) {
      if (r == *role) {
        existing = ref;
        replaced = true;
      }
    }
    if (!replaced) roles.emplace_back(*role, ref);
  }

  ExpressionJob job;
  for (algebra::BandRole needed : index->roles) {
    const io::BandRef* found = nullptr;
    for (const auto& [r, ref] : roles) {
      if (r == needed) found = &ref;
    }
    if (!found) {
      core::fail(ErrorCode::kInvalidInput, "{} needs the {} band: give --sensor with --input, or --band {}=FILE:BAND",
                 index->id, algebra::role_name(needed), algebra::role_name(needed));
    }
    io::PipelineInput in;
    in.path = found->path;
    in.band = found->band;
    in.scale = req.scale;
    in.offset = req.offset;
    job.inputs.emplace_back(algebra::role_name(needed), in);
  }

  job.parsed = algebra::index_tree(*index, req.params);
  job.expression = algebra::to_string(*job.parsed);

  if (index->needs_reflectance && req.scale == 1.0 && req.offset == 0.0) {
    for (const auto& [name, in] : job.inputs) {
      const io::RasterDataset ds = io::RasterDataset::open(in.path);
      const io::BandInfo b = ds.band(in.band);
      if (core::is_integer(b.type) && b.scale == 1.0 && b.offset == 0.0) {
        warnings.push_back(fmt::format(
            "{} assumes surface reflectance in 0..1, but '{}' band {} holds integer values with no scale; pass "
            "--scale (and --offset), e.g. --scale 0.0001 for Sentinel-2 L2A",
            index->id, in.path, in.band));
        break;
      }
    }
  }
  job.extra_metadata.emplace_back("SCO_INDEX", index->id);
  return job;
}

}  // namespace sco::run
