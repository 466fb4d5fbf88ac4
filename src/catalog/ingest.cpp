#include "catalog/ingest.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "algebra/spectral_index.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/parse.hpp"
#include "core/progress.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "io/time_axis.hpp"

namespace sco::catalog {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* stac_data_type(core::DataType t) {
  switch (t) {
    case core::DataType::kByte: return "uint8";
    case core::DataType::kInt8: return "int8";
    case core::DataType::kUInt16: return "uint16";
    case core::DataType::kInt16: return "int16";
    case core::DataType::kUInt32: return "uint32";
    case core::DataType::kInt32: return "int32";
    case core::DataType::kFloat32: return "float32";
    case core::DataType::kFloat64: return "float64";
  }
  return "other";
}

json nodata_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// A date found in metadata or a file name: "YYYY-MM-DD", "YYYY:MM:DD hh:mm:ss" (TIFF),
// "YYYY-MM-DDThh:mm[:ss][Z]" -> RFC 3339 UTC; "" when there is none or it is not a real date
// (2020-02-30 in a name is no date).
std::string rfc3339(const std::string& text) {
  static const std::regex re(R"((\d{4})[-:](\d{2})[-:](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return "";
  const std::string candidate = fmt::format("{}-{}-{}T{}:{}:{}Z", m[1].str(), m[2].str(), m[3].str(), m[4].matched ? m[4].str() : "00",
                                            m[5].matched ? m[5].str() : "00", m[6].matched ? m[6].str() : "00");
  try {
    return core::parse_rfc3339(candidate, "date");
  } catch (const core::Error&) {
    return "";
  }
}

// A date the user gave (--datetime): strict RFC 3339 or YYYY-MM-DD, else an error naming it.
std::string given_date(const std::string& text, const std::string& whole) {
  try {
    return core::parse_rfc3339(text, "--datetime");
  } catch (const core::Error& e) {
    core::fail(ErrorCode::kInvalidInput, "--datetime '{}': {}", whole, std::string(e.what()).substr(std::string("--datetime: ").size()));
  }
}

std::string iso_of(const cube::DateTime& d) {
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", d.year, d.month, d.day, d.hour, d.minute, static_cast<int>(d.second));
}

std::string media_type(const io::RasterDataset& ds) {
  const std::string driver = ds.driver_name();
  if (driver == "GTiff") {
    const auto md = ds.metadata("IMAGE_STRUCTURE");
    for (const auto& [k, v] : md) {
      if (k == "LAYOUT" && v == "COG") return "image/tiff; application=geotiff; profile=cloud-optimized";
    }
    return "image/tiff; application=geotiff";
  }
  if (driver == "netCDF") return "application/netcdf";
  if (driver == "HDF5") return "application/x-hdf5";
  if (driver == "JP2OpenJPEG") return "image/jp2";
  if (driver == "PNG") return "image/png";
  return "application/octet-stream";
}

}  // namespace

json new_collection(const std::string& id, const std::string& title, const std::string& description, const std::string& license) {
  return {{"type", "Collection"},
          {"stac_version", "1.0.0"},
          {"stac_extensions", json::array()},
          {"id", id},
          {"title", title.empty() ? id : title},
          {"description", description.empty() ? "Collection " + id + " of this sco node" : description},
          {"license", license.empty() ? "proprietary" : license},
          {"extent", {{"spatial", {{"bbox", json::array({json::array({-180, -90, 180, 90})})}}},
                      {"temporal", {{"interval", json::array({json::array({nullptr, nullptr})})}}}}},
          {"links", json::array()}};
}

BuiltItem raster_item(const std::string& path, const std::string& collection, const ItemOptions& opt, const std::string& known_sha256) {
  io::init_gdal();
  // Containers (NetCDF, HDF5): one asset per variable; the grid is the first variable's.
  std::vector<std::pair<std::string, std::string>> parts;  // asset key, GDAL name
  {
    io::clear_gdal_error();
    GDALDatasetH h = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    if (!h) core::fail(ErrorCode::kInvalidInput, "'{}' is not a raster GDAL can read: {}", path, io::take_gdal_error());
    char** sub = GDALGetMetadata(h, "SUBDATASETS");
    if (GDALGetRasterCount(h) == 0) {
      for (char** p = sub; p && *p; ++p) {
        const std::string kv = *p;
        const auto eq = kv.find('=');
        if (eq == std::string::npos || kv.compare(eq - 5, 5, "_NAME") != 0) continue;
        const std::string name = kv.substr(eq + 1);
        const auto colon = name.rfind(':');
        parts.emplace_back(colon == std::string::npos ? name : name.substr(colon + 1), name);
      }
    }
    GDALClose(h);
    if (parts.empty()) parts.emplace_back("data", path);
  }
  const io::RasterDataset ds = io::RasterDataset::open(parts.front().second);
  const core::Grid g = ds.grid();
  if (g.crs_wkt.empty()) core::fail(ErrorCode::kInvalidInput, "'{}' has no CRS: it cannot be placed on the map", path);

  // Footprint: the grid's outline, 16 points per edge, in WGS 84 (longitude, latitude).
  OGRSpatialReference src, wgs84;
  src.importFromWkt(g.crs_wkt.c_str());
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &wgs84));
  if (!ct) core::fail(ErrorCode::kInvalidInput, "'{}': its CRS cannot be transformed to WGS 84", path);
  const auto& t = g.transform;
  std::vector<double> xs, ys;
  const int n = 16;
  auto add = [&](double col, double row) {
    xs.push_back(t[0] + col * t[1] + row * t[2]);
    ys.push_back(t[3] + col * t[4] + row * t[5]);
  };
  for (int k = 0; k < n; ++k) add(g.width * k / static_cast<double>(n), 0);
  for (int k = 0; k < n; ++k) add(g.width, g.height * k / static_cast<double>(n));
  for (int k = 0; k < n; ++k) add(g.width * (n - k) / static_cast<double>(n), g.height);
  for (int k = 0; k < n; ++k) add(0, g.height * (n - k) / static_cast<double>(n));
  if (!ct->Transform(static_cast<int>(xs.size()), xs.data(), ys.data())) {
    core::fail(ErrorCode::kInvalidInput, "'{}': its outline cannot be transformed to WGS 84", path);
  }
  // An outline beyond WGS 84's range is a georeferencing error (found by fuzz_raster_metadata: a
  // transform placing a raster at longitude 3e222 was published as is); a rounding hair beyond it is
  // not. Climate grids in longitudes 0..360 reach up to 360; one lying wholly east of 180 is shifted
  // to -180..180.
  const bool east_of_180 = std::all_of(xs.begin(), xs.end(), [](double x) { return x >= 180.0; });
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (!(xs[k] >= -180.0 - 1e-9 && xs[k] <= 360.0 + 1e-9 && std::fabs(ys[k]) <= 90.0 + 1e-9)) {
      core::fail(ErrorCode::kInvalidInput, "'{}': its outline in WGS 84 reaches ({}, {}), outside longitudes -180..360 and latitudes -90..90 "
                 "(wrong georeferencing or CRS)", path, xs[k], ys[k]);
    }
    xs[k] = std::clamp(xs[k], -180.0, 360.0) - (east_of_180 ? 360.0 : 0.0);
    ys[k] = std::clamp(ys[k], -90.0, 90.0);
  }
  json ring = json::array();
  double w = 180, s = 90, e = -180, nn = -90;
  auto round7 = [](double v) { return std::round(v * 1e7) / 1e7; };
  for (std::size_t k = 0; k < xs.size(); ++k) {
    ring.push_back({round7(xs[k]), round7(ys[k])});
    w = std::min(w, xs[k]);
    e = std::max(e, xs[k]);
    s = std::min(s, ys[k]);
    nn = std::max(nn, ys[k]);
  }
  ring.push_back(ring[0]);

  json props = json::object();
  // Datetime: the file's metadata, else its CF time axis, else a date in its name, else the one (or
  // the interval) given.
  std::string given, given_start, given_end;
  if (const auto slash = opt.datetime.find('/'); slash != std::string::npos) {
    given_start = given_date(opt.datetime.substr(0, slash), opt.datetime);
    given_end = given_date(opt.datetime.substr(slash + 1), opt.datetime);
    if (given_start > given_end) {
      core::fail(ErrorCode::kInvalidInput, "--datetime '{}': an interval is START/END, two dates with START not after END", opt.datetime);
    }
  } else if (!opt.datetime.empty()) {
    given = given_date(opt.datetime, opt.datetime);
  }
  std::string datetime;
  for (const auto& [k, v] : ds.metadata()) {
    if (k == "TIFFTAG_DATETIME" || k == "ACQUISITIONDATETIME" || k == "DATE_ACQUIRED" || k == "datetime") datetime = rfc3339(v);
    if (!datetime.empty()) break;
  }
  if (datetime.empty()) {
    if (const auto axis = io::find_time_axis(ds); axis && !axis->dates.empty()) {
      props["start_datetime"] = iso_of(axis->dates.front());
      props["end_datetime"] = iso_of(axis->dates.back());
      props["datetime"] = nullptr;
    }
  }
  if (datetime.empty() && !props.contains("start_datetime")) datetime = rfc3339(fs::path(path).filename().string());
  if (datetime.empty() && !props.contains("start_datetime")) datetime = given;
  if (datetime.empty() && !props.contains("start_datetime") && !given_start.empty()) {
    props["datetime"] = nullptr;
    props["start_datetime"] = given_start;
    props["end_datetime"] = given_end;
  }
  if (datetime.empty() && !props.contains("start_datetime")) {
    core::fail(ErrorCode::kInvalidInput,
               "'{}' has no date in its metadata, time axis or name: give --datetime YYYY-MM-DD (or START/END)", path);
  }
  if (!datetime.empty()) props["datetime"] = datetime;
  if (!opt.description.empty()) props["description"] = opt.description;

  // Projection.
  OGRSpatialReference crs;
  crs.importFromWkt(g.crs_wkt.c_str());
  const char* auth = crs.GetAuthorityName(nullptr);
  const char* code = crs.GetAuthorityCode(nullptr);
  if (auth && code && std::string(auth) == "EPSG") props["proj:epsg"] = std::stoi(code);
  else {
    props["proj:epsg"] = nullptr;
    props["proj:wkt2"] = g.crs_wkt;
  }
  props["proj:shape"] = {g.height, g.width};
  props["proj:transform"] = {t[1], t[2], t[0], t[4], t[5], t[3], 0, 0, 1};

  // eo:bands from the sensor's band layout for this many bands.
  json eo_bands;
  if (!opt.sensor.empty()) {
    const algebra::Sensor* sensor = algebra::find_sensor(opt.sensor);
    if (!sensor) {
      std::string known;
      for (const auto& sn : algebra::sensors()) known += (known.empty() ? "" : ", ") + std::string(sn.id);
      core::fail(ErrorCode::kInvalidInput, "--sensor '{}' is not a sensor sco knows ({})", opt.sensor, known);
    }
    const algebra::SensorLayout* layout = algebra::find_layout(*sensor, ds.band_count());
    if (!layout) {
      std::string counts;
      for (const auto& l : sensor->layouts) counts += (counts.empty() ? "" : ", ") + std::to_string(l.band_count);
      core::fail(ErrorCode::kInvalidInput, "'{}' has {} bands; {} files have {} bands", path, ds.band_count(), sensor->title, counts);
    }
    eo_bands = json::array();
    auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
    int position = 0;
    for (const algebra::SpectralBand* b : algebra::layout_bands(*sensor, *layout)) {
      ++position;
      if (!b) {
        eo_bands.push_back({{"name", fmt::format("band {}", position)}});
        continue;
      }
      eo_bands.push_back({{"name", b->name},
                          {"common_name", b->common_name},
                          {"center_wavelength", round4((b->lo_um + b->hi_um) / 2)},
                          {"full_width_half_max", round4(b->hi_um - b->lo_um)}});
    }
  }

  BuiltItem out;
  out.sha256 = known_sha256.empty() ? core::sha256_file(path) : known_sha256;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  json assets = json::object();
  for (const auto& [key, gdal_name] : parts) {
    const io::RasterDataset part = io::RasterDataset::open(gdal_name);
    json bands = json::array();
    for (int b = 1; b <= part.band_count(); ++b) {
      const io::BandInfo bi = part.band(b);
      json band = {{"data_type", stac_data_type(bi.type)}, {"spatial_resolution", std::fabs(t[1])}};
      if (bi.nodata) band["nodata"] = nodata_json(*bi.nodata);
      if (bi.scale != 1.0) band["scale"] = bi.scale;
      if (bi.offset != 0.0) band["offset"] = bi.offset;
      if (!bi.description.empty()) band["sco:description"] = bi.description;
      bands.push_back(band);
    }
    json asset = {{"href", fs::absolute(path).lexically_normal().string()},
                  {"type", media_type(part)},
                  {"title", key == "data" ? fs::path(path).filename().string() : key},
                  {"roles", json::array({"data"})},
                  {"file:checksum", "1220" + out.sha256},
                  {"file:size", size},
                  {"raster:bands", bands}};
    if (key != "data") asset["sco:gdal_name"] = gdal_name;
    if (key == "data" && eo_bands.is_array()) asset["eo:bands"] = eo_bands;
    assets[key] = asset;
  }
  out.item = {{"type", "Feature"},
              {"stac_version", "1.0.0"},
              {"stac_extensions", eo_bands.is_array() ? json::array({kEoExtension, kRasterExtension, kProjectionExtension, kFileExtension})
                                                      : json::array({kRasterExtension, kProjectionExtension, kFileExtension})},
              {"id", opt.id.empty() ? fs::path(path).stem().string() : opt.id},
              {"collection", collection},
              {"geometry", {{"type", "Polygon"}, {"coordinates", json::array({ring})}}},
              {"bbox", {round7(w), round7(s), round7(e), round7(nn)}},
              {"properties", props},
              {"assets", assets},
              // Links relative to the node's STAC API; the server makes them absolute.
              {"links", json::array({{{"rel", "collection"}, {"href", "/stac/collections/" + collection}, {"type", "application/json"}}})}};
  return out;
}

namespace {

// One band file of a Sentinel-2 acquisition: the acquisition it belongs to (the item's id), the
// acquisition date, the band and the resolution in metres (0: not in the name).
struct BandFile {
  std::string path, group, date, band;  // band: as the sensor table names it (B2, B8A, SCL)
  int resolution = 0;
  std::string key = {};     // the asset's key: the band as the file names it (B02, SR_B4)
  std::string sha256 = {};
  double scale = 1.0, offset = 0.0;  // to physical values (Landsat C2 L2: reflectance, kelvin)
};

// Sentinel-2 band names as files spell them (B02, B8A, SCL) -> the sensor table's (B2, B8A) or SCL.
std::string s2_band_name(std::string name) {
  if (name == "SCL") return name;
  if (name.size() == 3 && name[0] == 'B' && name[1] == '0') name.erase(1, 1);
  return name;
}

// A file is a band of an acquisition when (a) it is named by its band (B02.tif, SCL.tif) in a folder
// named by its date (20220602/, as the shared sample), or (b) named as in ESA's SAFE granules
// (T32TPS_20220602T101559_B02_10m.jp2). Else nullopt.
std::optional<BandFile> s2_band_file(const fs::path& file, const fs::path& root, const algebra::Sensor& sensor) {
  static const std::regex safe(R"(^(T\d{2}[A-Z]{3})_(\d{4})(\d{2})(\d{2})(T\d{6})_([A-Z0-9]{2,3})_(\d+)m$)");
  static const std::regex day(R"((\d{4})-?(\d{2})-?(\d{2}))");
  const std::string stem = file.stem().string();
  const auto known = [&](const std::string& b) {
    return b == "SCL" || std::any_of(sensor.spectral.begin(), sensor.spectral.end(), [&](const algebra::SpectralBand& x) { return b == x.name; });
  };
  std::smatch m;
  if (std::regex_match(stem, m, safe) && known(s2_band_name(m[6].str()))) {
    return BandFile{file.string(), m[1].str() + "_" + m[2].str() + m[3].str() + m[4].str() + m[5].str(),
                    m[2].str() + "-" + m[3].str() + "-" + m[4].str(), s2_band_name(m[6].str()), std::stoi(m[7].str()), m[6].str()};
  }
  const std::string folder = file.parent_path().filename().string();
  if (known(s2_band_name(stem)) && std::regex_search(folder, m, day)) {
    std::string group = fs::relative(file.parent_path(), root).string();
    if (group == ".") group = folder;
    std::replace(group.begin(), group.end(), '/', '_');
    return BandFile{file.string(), group, m[1].str() + "-" + m[2].str() + "-" + m[3].str(), s2_band_name(stem), 0, stem};
  }
  return std::nullopt;
}

// A band file of a Landsat Collection 2 Level-2 product (LC08_L2SP_PPPRRR_YYYYMMDD_YYYYMMDD_CC_TX_SR_B4.TIF):
// the product id groups them, the acquisition date is the fourth field; surface reflectance and
// surface temperature carry USGS's scale and offset (Landsat 8-9 Collection 2 Level-2 Science
// Product Guide: SR x 0.0000275 - 0.2, ST x 0.00341802 + 149.0 kelvin).
std::optional<BandFile> landsat_band_file(const fs::path& file) {
  static const std::regex name(R"(^(L[CO]0[89]_L2S[PR]_\d{6}_(\d{4})(\d{2})(\d{2})_\d{8}_\d{2}_T[12S])_(SR_B[1-7]|ST_B10|QA_PIXEL)$)");
  std::smatch m;
  const std::string stem = file.stem().string();
  if (!std::regex_match(stem, m, name)) return std::nullopt;
  BandFile b{file.string(), m[1].str(), m[2].str() + "-" + m[3].str() + "-" + m[4].str(), m[5].str(), 30, m[5].str()};
  if (b.key.rfind("SR_", 0) == 0) {
    b.band = b.key.substr(3);  // SR_B4 -> B4 of the sensor table
    b.scale = 0.0000275;
    b.offset = -0.2;
  } else if (b.key == "ST_B10") {
    b.band = "B10";
    b.scale = 0.00341802;
    b.offset = 149.0;
  }
  return b;
}

// The Scene Classification Layer's classes (ESA, Sentinel-2 L2A product definition).
json scl_classes() {
  static const char* names[] = {"no data", "saturated or defective", "dark area pixels", "cloud shadows", "vegetation",
                                "not vegetated", "water", "unclassified", "cloud medium probability", "cloud high probability",
                                "thin cirrus", "snow"};
  json out = json::array();
  for (int v = 0; v < 12; ++v) out.push_back({{"value", v}, {"name", names[v]}});
  return out;
}

// One item for an acquisition's band files: the first band's footprint, grid and date (the name's
// when the file has none), one asset per band keyed by the band's file name, with its eo:bands; the
// finest resolution of a band given at several. Its checksum covers every file.
BuiltItem acquisition_item(std::vector<BandFile> bands, const std::string& collection, const ItemOptions& opt,
                           const algebra::Sensor& sensor) {
  std::sort(bands.begin(), bands.end(), [](const BandFile& a, const BandFile& b) {
    return a.band != b.band ? a.band < b.band : a.resolution < b.resolution;
  });
  bands.erase(std::unique(bands.begin(), bands.end(), [](const BandFile& a, const BandFile& b) { return a.band == b.band; }), bands.end());
  BuiltItem out;
  std::string shas;
  auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
  for (const BandFile& f : bands) {
    ItemOptions o = opt;
    o.id = f.group;
    o.sensor.clear();
    if (o.datetime.empty()) o.datetime = f.date;
    BuiltItem one = raster_item(f.path, collection, o, f.sha256);
    shas += one.sha256;
    json asset = one.item["assets"]["data"];
    asset["title"] = f.band == "SCL" ? "Scene Classification Layer (SCL)" : sensor.title + std::string(" ") + f.key;
    if (f.scale != 1.0 || f.offset != 0.0) {
      asset["raster:bands"][0]["scale"] = f.scale;
      asset["raster:bands"][0]["offset"] = f.offset;
    }
    if (f.band == "SCL") {
      asset["sco:classes"] = scl_classes();
    } else if (f.band == "QA_PIXEL") {
      asset["sco:bits"] = {{"0", "fill"}, {"1", "dilated cloud"}, {"2", "cirrus"}, {"3", "cloud"}, {"4", "cloud shadow"},
                           {"5", "snow"}, {"6", "clear"}, {"7", "water"}};
    } else {
      for (const auto& b : sensor.spectral) {
        if (f.band == b.name) {
          asset["eo:bands"] = json::array({{{"name", b.name}, {"common_name", b.common_name},
                                            {"center_wavelength", round4((b.lo_um + b.hi_um) / 2)},
                                            {"full_width_half_max", round4(b.hi_um - b.lo_um)}}});
        }
      }
    }
    if (out.item.is_null()) {
      out.item = one.item;
      out.item["assets"] = json::object();
      out.item["stac_extensions"] = json::array({kEoExtension, kRasterExtension, kProjectionExtension, kFileExtension});
      const bool landsat = std::string_view(sensor.id) == "landsat8";
      out.item["properties"]["platform"] = landsat ? (f.group.rfind("LC09", 0) == 0 ? "landsat-9" : "landsat-8") : "sentinel-2";
      out.item["properties"]["instruments"] = landsat ? json::array({"oli", "tirs"}) : json::array({"msi"});
    }
    out.item["assets"][f.key] = asset;
  }
  out.sha256 = core::sha256_hex(shas);
  return out;
}

}  // namespace

IngestReport ingest(CatalogStore& store, const std::vector<std::string>& paths, const std::string& collection, const IngestOptions& options) {
  io::init_gdal();
  // The files, each with its item id (a file's stem, or its path under a given folder) and whether
  // it was named by the user (then it must be a readable raster).
  struct File {
    std::string path, id;
    bool named = false;
    std::string root = {};
  };
  std::vector<File> files;
  for (const auto& p : paths) {
    if (!fs::exists(p)) core::fail(ErrorCode::kNotFound, "'{}' not found", p);
    io::refuse_special_file(p);
    if (fs::is_directory(p)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) {
        std::string id = fs::relative(f, p).replace_extension().string();
        std::replace(id.begin(), id.end(), '/', '_');
        files.push_back({f.string(), id, false, p});
      }
    } else {
      files.push_back({p, fs::path(p).stem().string(), true, fs::path(p).parent_path().parent_path().string()});
    }
  }
  // With --sensor sentinel2 or landsat8, the band files of one acquisition make one item (acquisition_item).
  std::map<std::string, std::vector<BandFile>> acquisitions;
  const algebra::Sensor* s2 = options.items.sensor.empty() ? nullptr : algebra::find_sensor(options.items.sensor);
  const bool by_band = s2 && (std::string_view(s2->id) == "sentinel2" || std::string_view(s2->id) == "landsat8");
  if (by_band) {
    std::vector<File> rest;
    for (const File& f : files) {
      auto b = std::string_view(s2->id) == "sentinel2" ? s2_band_file(f.path, f.root, *s2) : landsat_band_file(f.path);
      if (b) acquisitions[b->group].push_back(std::move(*b));
      else rest.push_back(f);
    }
    files = std::move(rest);
  }
  IngestReport report;
  std::size_t band_files = 0;
  for (const auto& [group, bands] : acquisitions) band_files += bands.size();
  core::Progress bar("ingesting", static_cast<std::int64_t>(files.size() + band_files), options.progress);
  store.transaction([&] {
    std::optional<json> c = store.collection(collection);
    if (!c) c = new_collection(collection, "", "", "");
    if (!options.visibility.empty()) (*c)["sco:visibility"] = options.visibility;
    store.put_collection(*c);
    for (auto& [group, bands] : acquisitions) {
      std::string shas;
      for (BandFile& b : bands) {
        io::check_raster_readable(b.path);
        b.sha256 = core::sha256_file(b.path);
        shas += b.sha256;
      }
      const std::string sha = core::sha256_hex(shas);
      const auto old = store.item_checksum(collection, group);
      if (old && *old == sha) {
        ++report.unchanged;
      } else {
        BuiltItem built = acquisition_item(bands, collection, options.items, *s2);
        if (options.sign) options.sign(built.item);
        const UpsertResult r = store.put_item(built.item, built.sha256);
        if (r == UpsertResult::kInserted) ++report.inserted;
        else if (r == UpsertResult::kUpdated) ++report.updated;
        else ++report.unchanged;
      }
      report.item_ids.push_back(group);
      bar.advance(static_cast<std::int64_t>(bands.size()));
    }
    for (const auto& [file, id, named, root] : files) {
      const std::string ext = fs::path(file).extension().string();
      // Sidecars GDAL reads with their raster, never rasters of their own.
      const bool sidecar = ext == ".aux" || ext == ".xml" || ext == ".ovr" || ext == ".msk" || ext == ".prj" || ext == ".dbf" ||
                           ext == ".shx" || ext == ".json" || ext == ".html" || ext == ".csv" || ext == ".geojson" || ext == ".gpkg" ||
                           ext == ".shp" || ext == ".sqlite";
      if (sidecar && named) core::fail(ErrorCode::kInvalidInput, "'{}' is not a raster (a {} file)", file, ext);
      if (sidecar) {
        ++report.skipped;
        report.skipped_files.push_back(file);
        bar.advance(1);
        continue;
      }
      io::clear_gdal_error();
      GDALDatasetH probe = GDALOpenEx(file.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
      io::clear_gdal_error();
      if (!probe && named) io::check_raster_readable(file);  // an error naming the file and why
      if (!probe) {
        ++report.skipped;
        report.skipped_files.push_back(file);
        bar.advance(1);
        continue;
      }
      GDALClose(probe);
      const std::string sha = core::sha256_file(file);
      const auto old = store.item_checksum(collection, id);
      if (old && *old == sha) {
        ++report.unchanged;
      } else {
        io::check_raster_readable(file);
        ItemOptions item = options.items;
        item.id = id;
        BuiltItem built = raster_item(file, collection, item, sha);
        if (options.sign) options.sign(built.item);
        const UpsertResult r = store.put_item(built.item, sha);
        if (r == UpsertResult::kInserted) ++report.inserted;
        else if (r == UpsertResult::kUpdated) ++report.updated;
        else ++report.unchanged;
      }
      report.item_ids.push_back(id);
      bar.advance(1);
    }
    store.refresh_extent(collection);
    core::crash_point("ingest.staged");  // items and visibility written, not committed
    if (options.before_commit) options.before_commit(report);
    core::crash_point("ingest.audited");  // the audit entry written ahead, not yet confirmed by the commit
  });
  return report;
}

}  // namespace sco::catalog
