#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "zonal/accumulator.hpp"
#include "zonal/cell_area.hpp"
#include "zonal/zonal_engine.hpp"
#include "support/zonal_shapes.hpp"

using namespace sco;
using namespace sco::zonal;
using sco::test::rect;
using sco::test::unit_grid;

namespace {


// In-memory bands on one grid, for the engine.
class MemoryReader : public BandReader {
 public:
  MemoryReader(const core::Grid& g, std::vector<std::vector<float>> bands, std::optional<double> nodata,
               std::vector<float> weights = {})
      : g_(g), bands_(std::move(bands)), nodata_(nodata), weights_(std::move(weights)) {}
  int band_count() const override { return static_cast<int>(bands_.size()); }
  core::BlockView read(int band, const core::Window& w) override { return view(bands_[band].data(), w, nodata_); }
  bool has_weights() const override { return !weights_.empty(); }
  core::BlockView read_weights(const core::Window& w) override { return view(weights_.data(), w, std::nullopt); }

 private:
  core::BlockView view(const float* data, const core::Window& w, std::optional<double> nodata) const {
    core::BlockView v;
    v.type = core::DataType::kFloat32;
    v.data = data + static_cast<std::ptrdiff_t>(w.y) * g_.width + w.x;
    v.pitch = g_.width;
    v.width = w.width;
    v.height = w.height;
    v.nodata = nodata;
    return v;
  }
  core::Grid g_;
  std::vector<std::vector<float>> bands_;
  std::optional<double> nodata_;
  std::vector<float> weights_;
};

std::map<std::string, double> run_one(const Zone& zone, const core::Grid& g, std::vector<float> band,
                                      const std::string& stats, std::optional<double> nodata = std::nullopt,
                                      std::vector<float> weights = {}, std::int64_t strip_cells = 1 << 20) {
  const auto specs = parse_stats(stats);
  ZonalOptions opt;
  opt.strip_cells = strip_cells;
  auto res = compute_zonal({zone}, g, CellAreaModel{}, specs,
                           [&] { return std::make_unique<MemoryReader>(g, std::vector<std::vector<float>>{band}, nodata, weights); },
                           opt);
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < specs.size(); ++i) out[specs[i].name] = res[0].bands[0].values[i];
  return out;
}

}  // namespace

TEST(ZonalStats, WeightedByExactCoverage) {
  // 4x4 grid, value = column + 10 * row. Square x [0.5, 2], y [2, 4] covers row 0 and row 1,
  // columns 0 (half) and 1 (whole): cells (0,0)=0 w .5, (1,0)=1 w 1, (0,1)=10 w .5, (1,1)=11 w 1.
  const auto g = unit_grid(4, 4);
  std::vector<float> v(16);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) v[r * 4 + c] = static_cast<float>(c + 10 * r);
  const auto s = run_one(Zone{{{rect(0.5, 2, 2, 4), {}}}}, g, v,
                         "count,sum,mean,min,max,variance,stddev,median,median_icdf,majority,minority,variety,cells,area");
  // count = 0.5 + 1 + 0.5 + 1 = 3; sum = 0*.5 + 1 + 10*.5 + 11 = 17; mean = 17/3.
  EXPECT_NEAR(s.at("count"), 3.0, 1e-12);
  EXPECT_NEAR(s.at("sum"), 17.0, 1e-12);
  EXPECT_NEAR(s.at("mean"), 17.0 / 3.0, 1e-12);
  EXPECT_EQ(s.at("min"), 0.0);
  EXPECT_EQ(s.at("max"), 11.0);
  // variance = sum w (v - m)^2 / sum w = (.5*(17/3)^2 + (1-17/3)^2 + .5*(10-17/3)^2 + (11-17/3)^2)/3
  const double m = 17.0 / 3.0;
  const double var = (0.5 * m * m + (1 - m) * (1 - m) + 0.5 * (10 - m) * (10 - m) + (11 - m) * (11 - m)) / 3.0;
  EXPECT_NEAR(s.at("variance"), var, 1e-9);
  EXPECT_NEAR(s.at("stddev"), std::sqrt(var), 1e-9);
  // Sorted: 0 (.5), 1 (1), 10 (.5), 11 (1); half of 3 is 1.5, reached at value 1 (inverted CDF).
  EXPECT_EQ(s.at("median_icdf"), 1.0);
  // Interpolated (docs/zonal.md): n = 4, W = 3, S = 0, 1 x 1 + 3 x .5 = 2.5, 2 x .5 + 3 x 1.5 = 5.5,
  // 3 x 1 + 3 x 2 = 9; h = .5 x 3 x 3 = 4.5 lies between S_2 and S_3: 1 + (4.5 - 2.5) x 9 / 3 = 7.
  EXPECT_NEAR(s.at("median"), 7.0, 1e-12);
  EXPECT_EQ(s.at("majority"), 1.0);   // weight 1, tie with 11: the smaller value
  EXPECT_EQ(s.at("minority"), 0.0);   // weight .5, tie with 10
  EXPECT_EQ(s.at("variety"), 4.0);
  EXPECT_EQ(s.at("cells"), 4.0);
  EXPECT_NEAR(s.at("area"), 3.0, 1e-12);  // unit cells, planar, metres
}

TEST(ZonalStats, NodataIsExcludedAndReported) {
  const auto g = unit_grid(2, 1);
  const auto s = run_one(Zone{{{rect(0, 0, 2, 1), {}}}}, g, {5, -9999}, "count,mean,valid_fraction", -9999.0);
  EXPECT_EQ(s.at("count"), 1.0);
  EXPECT_EQ(s.at("mean"), 5.0);
  EXPECT_EQ(s.at("valid_fraction"), 0.5);
}

TEST(ZonalStats, QuantilesAndFractions) {
  // Ten whole cells with values 1..10. Equal weights make the interpolated quantile the textbook
  // one, 1 + 9 q (R's type 7, numpy's default); the inverted CDF's 90th percentile is 9 (cumulative
  // 9/10 reached at 9).
  const auto g = unit_grid(10, 1);
  std::vector<float> v = {3, 1, 2, 5, 4, 7, 6, 9, 8, 10};
  const auto s = run_one(Zone{{{rect(0, 0, 10, 1), {}}}}, g, v,
                         "p90,quantile_10,median,q1,q0,quantile_icdf_90,quantile_icdf_10,median_icdf");
  EXPECT_NEAR(s.at("quantile_90"), 9.1, 1e-12);
  EXPECT_NEAR(s.at("quantile_10"), 1.9, 1e-12);
  EXPECT_NEAR(s.at("median"), 5.5, 1e-12);
  EXPECT_EQ(s.at("quantile_100"), 10.0);
  EXPECT_EQ(s.at("quantile_0"), 1.0);
  EXPECT_EQ(s.at("quantile_icdf_90"), 9.0);
  EXPECT_EQ(s.at("quantile_icdf_10"), 1.0);
  EXPECT_EQ(s.at("median_icdf"), 5.0);
  // frac: classes 1 and 2 covering 3 and 1 whole cells.
  const auto specs = parse_stats("frac");
  auto res = compute_zonal({Zone{{{rect(0, 0, 4, 1), {}}}}}, unit_grid(4, 1), CellAreaModel{}, specs,
                           [] { return std::make_unique<MemoryReader>(unit_grid(4, 1), std::vector<std::vector<float>>{{1, 1, 2, 1}}, std::nullopt); },
                           ZonalOptions{});
  ASSERT_EQ(res[0].bands[0].fractions.size(), 2u);
  EXPECT_EQ(res[0].bands[0].fractions[0], (std::pair<double, double>{1.0, 0.75}));
  EXPECT_EQ(res[0].bands[0].fractions[1], (std::pair<double, double>{2.0, 0.25}));
}

TEST(ZonalStats, WeightedMeanAndSum) {
  // Population weights 1 and 3 on values 10 and 20: weighted mean (10 + 60) / 4 = 17.5.
  const auto g = unit_grid(2, 1);
  const auto s = run_one(Zone{{{rect(0, 0, 2, 1), {}}}}, g, {10, 20}, "weighted_mean,weighted_sum,mean", std::nullopt,
                         {1, 3});
  EXPECT_EQ(s.at("weighted_mean"), 17.5);
  EXPECT_EQ(s.at("weighted_sum"), 70.0);
  EXPECT_EQ(s.at("mean"), 15.0);
}

TEST(ZonalStats, StripsDoNotChangeResults) {
  const auto g = unit_grid(50, 40);
  std::vector<float> v(2000);
  for (int i = 0; i < 2000; ++i) v[i] = static_cast<float>((i * 37) % 101);
  const Zone z{{{{{3.3, 2.1}, {45.2, 5.7}, {30.1, 38.8}, {4.4, 30.0}, {3.3, 2.1}}, {rect(10, 10, 20, 20)}}}};
  const auto one = run_one(z, g, v, "count,sum,mean,median,stddev,max");
  const auto strips = run_one(z, g, v, "count,sum,mean,median,stddev,max", std::nullopt, {}, 60);
  for (const auto& [k, val] : one) EXPECT_NEAR(strips.at(k), val, 1e-9 * std::max(1.0, std::abs(val))) << k;
}

TEST(ZonalStats, ZoneOutsideGivesEmptyRow) {
  const auto g = unit_grid(4, 4);
  const auto specs = parse_stats("count,mean");
  auto res = compute_zonal({Zone{{{rect(10, 10, 11, 11), {}}}}}, g, CellAreaModel{}, specs,
                           [&] { return std::make_unique<MemoryReader>(g, std::vector<std::vector<float>>{std::vector<float>(16, 1.f)}, std::nullopt); },
                           ZonalOptions{});
  EXPECT_FALSE(res[0].overlaps);
  EXPECT_EQ(res[0].bands[0].values[0], 0.0);
  EXPECT_TRUE(std::isnan(res[0].bands[0].values[1]));
}

TEST(ZonalStats, ParseErrorsNameTheStatistic) {
  try {
    parse_stats("mean,avg");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown statistic 'avg'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_stats("p150"), core::Error);
  EXPECT_THROW(parse_stats("mean,mean"), core::Error);
  EXPECT_EQ(parse_stats("q0.25")[0].name, "quantile_25");
  EXPECT_EQ(parse_stats("quantile_icdf_75")[0].kind, StatKind::kQuantileIcdf);
  EXPECT_EQ(parse_stats("quantile_icdf_75")[0].name, "quantile_icdf_75");
  EXPECT_EQ(parse_stats("median_icdf")[0].kind, StatKind::kMedianIcdf);
}

TEST(CellArea, SphericalRowsShrinkTowardsThePoles) {
  // A 1 x 1 degree cell at the equator: R^2 * (pi/180) * sin(1 deg) = 12363.718 km2.
  const core::Grid g{360, 180, {-180, 1, 0, 90, 0, -1}, ""};
  const CellAreaModel geo{true, 1.0};
  const double deg = 3.14159265358979323846 / 180.0;
  EXPECT_NEAR(cell_area(g, geo, 89), kEarthRadius * kEarthRadius * deg * std::sin(deg), 1e-3);
  EXPECT_NEAR(cell_area(g, geo, 89) / 1e6, 12363.718, 0.001);
  // All cells add up to the sphere's area, 4 pi R^2.
  double total = 0;
  for (int r = 0; r < 180; ++r) total += 360 * cell_area(g, geo, r);
  EXPECT_NEAR(total / (4 * 3.14159265358979323846 * kEarthRadius * kEarthRadius), 1.0, 1e-12);
  // Planar: 30 m cells are 900 m2; a CRS in feet converts.
  const core::Grid utm{10, 10, {0, 30, 0, 0, 0, -30}, ""};
  EXPECT_NEAR(cell_area(utm, CellAreaModel{false, 1.0}, 3), 900.0, 1e-9);
  EXPECT_NEAR(cell_area(utm, CellAreaModel{false, 0.3048}, 3), 900.0 * 0.3048 * 0.3048, 1e-9);
}

namespace {
// The weighted quantile by sorting: the smallest value whose cumulative weight, in value order,
// reaches q x total (with the engine's 1e-12 relative tolerance).
double sorted_quantile(std::vector<std::pair<double, double>> vw, double q) {
  std::sort(vw.begin(), vw.end());
  double total = 0.0;
  for (const auto& [v, w] : vw) total += w;
  const double target = q * total * (1.0 - 1e-12);
  if (target <= 0.0) return vw.front().first;
  double cum = 0.0;
  for (const auto& [v, w] : vw) {
    cum += w;
    if (cum >= target) return v;
  }
  return vw.back().first;
}

// exactextract's interpolated quantile, from its definition (docs/zonal.md) over the distinct
// values: S_k = (k - 1) w_k + (n - 1) (w_1 + ... + w_{k-1}), h = q (n - 1) W, the largest k with
// S_k <= h, then the weighted average of x_k and x_{k+1} at t = (h - S_k) / (S_{k+1} - S_k).
double interpolated_reference(const std::vector<std::pair<double, double>>& vw, double q) {
  std::map<double, double> merged;
  for (const auto& [v, w] : vw) merged[v] += w;
  std::vector<double> x, s;
  const double n1 = static_cast<double>(merged.size() - 1);
  double cum = 0.0;
  for (const auto& [v, w] : merged) {
    s.push_back(static_cast<double>(x.size()) * w + n1 * cum);
    x.push_back(v);
    cum += w;
  }
  const double h = q * n1 * cum;
  const std::size_t k = static_cast<std::size_t>(std::upper_bound(s.begin(), s.end(), h) - s.begin()) - 1;
  if (k + 1 >= x.size() || q >= 1.0) return x.back();
  const double t = (h - s[k]) / (s[k + 1] - s[k]);
  return t == 0.0 ? x[k] : (1.0 - t) * x[k] + t * x[k + 1];
}

// Equal when not finite, else within a relative 1e-9 (sums in another order).
void expect_close(double got, double want, const std::string& what) {
  if (!std::isfinite(got) || !std::isfinite(want)) {
    EXPECT_TRUE(got == want || (std::isnan(got) && std::isnan(want))) << what << ": " << got << " vs " << want;
  } else {
    EXPECT_NEAR(got, want, 1e-9 * std::max(1.0, std::abs(want))) << what;
  }
}
}  // namespace

TEST(ZonalStats, LargeSixteenBitZonesUseTheDenseHistogramExactly) {
  // 400 x 300 Int16 cells (120000 > the 32768 pairs after which a 16-bit zone turns dense), one zone
  // over all of it, so every weight is 1: median, quantiles, majority and variety must equal what
  // sorting all values gives.
  const int W = 400, H = 300;
  std::vector<std::int16_t> v(static_cast<std::size_t>(W) * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) v[static_cast<std::size_t>(y) * W + x] = static_cast<std::int16_t>((x * 7 + y * 13) % 1000 - 500);
  class Int16Reader : public BandReader {
   public:
    Int16Reader(const std::vector<std::int16_t>& d, int w) : d_(d), w_(w) {}
    int band_count() const override { return 1; }
    core::BlockView read(int, const core::Window& win) override {
      core::BlockView b;
      b.type = core::DataType::kInt16;
      b.data = d_.data() + static_cast<std::ptrdiff_t>(win.y) * w_ + win.x;
      b.pitch = w_;
      b.width = win.width;
      b.height = win.height;
      return b;
    }
    bool has_weights() const override { return false; }
    core::BlockView read_weights(const core::Window&) override { return {}; }

   private:
    const std::vector<std::int16_t>& d_;
    int w_;
  };
  const auto g = unit_grid(W, H);
  const auto specs = parse_stats("median_icdf,quantile_icdf_25,majority,variety,min,max,count,median,p25,p99.9");
  auto res = compute_zonal({Zone{{{rect(0, 0, W, H), {}}}}}, g, CellAreaModel{}, specs,
                           [&] { return std::make_unique<Int16Reader>(v, W); }, ZonalOptions{});
  std::vector<std::pair<double, double>> vw;
  for (auto x : v) vw.emplace_back(x, 1.0);
  expect_close(res[0].bands[0].values[7], interpolated_reference(vw, 0.5), "median");
  expect_close(res[0].bands[0].values[8], interpolated_reference(vw, 0.25), "p25");
  expect_close(res[0].bands[0].values[9], interpolated_reference(vw, 0.999), "p99.9");
  std::vector<std::int16_t> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  // The smallest value whose cumulative count reaches q * n: index ceil(q * n) - 1.
  EXPECT_EQ(res[0].bands[0].values[0], sorted[n / 2 - 1]);
  EXPECT_EQ(res[0].bands[0].values[1], sorted[n / 4 - 1]);
  std::map<int, int> counts;
  for (auto x : v) counts[x]++;
  int best = counts.begin()->first;
  for (const auto& [k, c] : counts) {
    if (c > counts[best]) best = k;
  }
  EXPECT_EQ(res[0].bands[0].values[2], best);
  EXPECT_EQ(res[0].bands[0].values[3], static_cast<double>(counts.size()));
  EXPECT_EQ(res[0].bands[0].values[4], sorted.front());
  EXPECT_EQ(res[0].bands[0].values[5], sorted.back());
  EXPECT_EQ(res[0].bands[0].values[6], static_cast<double>(n));
}


TEST(ZonalStats, QuantilesOfFloatsMatchSortingForEveryShapeOfData) {
  // 300 x 200 Float32 cells under the rectangle [0.5, 299.5] x [0.5, 199.5]: interior cells weigh
  // 1, edge cells 1/2, the four corners 1/4. Each data set stresses another path of the selection:
  // spread values (bucket narrowing), runs of equal values, a few distinct values with outliers,
  // a dynamic range of 10^35 (levels of narrowing, then quickselect), and infinities (a range that is
  // not finite). Quantiles must equal sorting all (value, weight) pairs (both definitions), with the
  // zone whole and in strips merged across threads.
  const int W = 300, H = 200;
  const auto g = unit_grid(W, H);
  const Zone zone{{{rect(0.5, 0.5, W - 0.5, H - 0.5), {}}}};
  auto weight = [&](int c, int r) {
    return ((c == 0 || c == W - 1) ? 0.5 : 1.0) * ((r == 0 || r == H - 1) ? 0.5 : 1.0);
  };
  std::uint64_t state = 12345;
  auto uniform = [&] {  // splitmix64 -> [0, 1)
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
  };
  const std::vector<std::pair<std::string, std::function<float(int, int)>>> sets = {
      {"spread", [&](int, int) { return static_cast<float>(uniform() * 2.0 - 1.0); }},
      {"runs", [&](int c, int r) { return static_cast<float>(((c / 7) * 31 + (r / 5) * 17) % 101) * 0.01f; }},
      {"few values", [&](int c, int r) { return (c * r) % 997 == 0 ? 1e30f : static_cast<float>((c + r) % 3); }},
      {"wide range", [&](int, int) { return static_cast<float>(std::exp(uniform() * 80.0 - 40.0)); }},
      {"infinities", [&](int c, int) {
         return c == 3 ? -INFINITY : c == 5 ? INFINITY : static_cast<float>(uniform());
       }},
  };
  const std::vector<double> qs = {0.0, 0.01, 0.25, 0.5, 0.9, 0.999, 1.0};
  std::string names;
  for (double q : qs) names += fmt::format("quantile_icdf_{},", q * 100.0);
  for (double q : qs) names += fmt::format("q{}{}", q, q == qs.back() ? "" : ",");
  for (const auto& [label, make] : sets) {
    std::vector<float> v(static_cast<std::size_t>(W) * H);
    std::vector<std::pair<double, double>> vw;
    for (int r = 0; r < H; ++r) {
      for (int c = 0; c < W; ++c) {
        const float x = make(c, r);
        v[static_cast<std::size_t>(r) * W + c] = x;
        vw.emplace_back(x, weight(c, r));
      }
    }
    const auto specs = parse_stats(names);
    for (const std::int64_t strip : {std::int64_t{1} << 20, std::int64_t{3000}}) {
      ZonalOptions opt;
      opt.strip_cells = strip;
      opt.threads = 2;
      auto res = compute_zonal({zone}, g, CellAreaModel{}, specs,
                               [&] { return std::make_unique<MemoryReader>(g, std::vector<std::vector<float>>{v}, std::nullopt); },
                               opt);
      for (std::size_t i = 0; i < qs.size(); ++i) {
        EXPECT_EQ(res[0].bands[0].values[i], sorted_quantile(vw, qs[i]))
            << label << " q=" << qs[i] << " strip cells " << strip;
        expect_close(res[0].bands[0].values[qs.size() + i], interpolated_reference(vw, qs[i]),
                     fmt::format("{} interpolated q={} strip cells {}", label, qs[i], strip));
      }
    }
  }
}

namespace {

// Accumulates rows [y0, y1) of a W-wide band (every cell covered whole, cells of area 1).
template <typename T>
void add_rows(Accumulator& a, const std::vector<T>& v, core::DataType type, int W, int y0, int y1) {
  core::BlockView b;
  b.type = type;
  b.data = v.data() + static_cast<std::ptrdiff_t>(y0) * W;
  b.pitch = W;
  b.width = W;
  b.height = y1 - y0;
  const std::vector<double> coverage(static_cast<std::size_t>(W) * (y1 - y0), 1.0), area(static_cast<std::size_t>(y1 - y0), 1.0);
  a.add(b, coverage.data(), W, nullptr, area.data());
}

// A zone's accumulators cut between two ranks: the second part saved into a message, loaded on the
// other side and merged into the first must give what sorting every value gives.
template <typename T>
void split_parts_agree(core::DataType type, const std::vector<T>& v, int W, int H, int cut) {
  const auto specs = parse_stats("count,sum,min,max,median,median_icdf,quantile_icdf_90,variety,majority");
  Accumulator first, second, received;
  for (Accumulator* a : {&first, &second}) a->reset(needs_of(specs), type, 1.0, 0.0);
  add_rows(first, v, type, W, 0, cut);
  add_rows(second, v, type, W, cut, H);
  core::ByteWriter message;
  second.save(message);
  core::ByteReader in(message.bytes());
  received.load(in);
  EXPECT_TRUE(in.done());
  first.merge(received);
  std::vector<std::pair<double, double>> vw;
  std::map<double, int> counts;
  for (T x : v) {
    vw.emplace_back(static_cast<double>(x), 1.0);
    counts[static_cast<double>(x)]++;
  }
  std::vector<double> sorted;
  for (T x : v) sorted.push_back(static_cast<double>(x));
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  double sum = 0.0, best = counts.begin()->first;
  for (double x : sorted) sum += x;
  for (const auto& [k, c] : counts) best = c > counts[best] ? k : best;
  const std::vector<double> want = {static_cast<double>(n), sum, sorted.front(), sorted.back(), interpolated_reference(vw, 0.5),
                                    sorted[(n + 1) / 2 - 1], sorted[static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1],
                                    static_cast<double>(counts.size()), best};
  for (std::size_t i = 0; i < specs.size(); ++i) expect_close(first.value(specs[i]), want[i], specs[i].name);
}

}  // namespace

TEST(ZonalStats, AccumulatorsCutBetweenRanksMergeToTheWholeZone) {
  // Float32: every value distinct, the pairs travel unsorted in one block.
  const int W = 250, H = 160;
  std::vector<float> f(static_cast<std::size_t>(W) * H);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * 1000.0 + static_cast<double>(i % 17) * 1e-3);
  split_parts_agree(core::DataType::kFloat32, f, W, H, 37);
  // Int16 whose parts are each below the 32768 pairs at which a 16-bit zone turns dense and together
  // above: the merged zone turns dense; and one whose second part is dense already (sent as its
  // non-empty slots).
  std::vector<std::int16_t> s(static_cast<std::size_t>(W) * H);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>(static_cast<int>((i * 7919) % 30011) - 15000);
  split_parts_agree(core::DataType::kInt16, s, W, H, 80);
  split_parts_agree(core::DataType::kInt16, s, W, H, 10);
}
