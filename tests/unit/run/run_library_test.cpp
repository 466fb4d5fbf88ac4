// The run library as a library: the plan without pixels, step events, errors naming the step and its
// op, cancellation leaving nothing behind, the area of interest as GeoJSON text, the docs' step table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "run/op_fixture.hpp"
#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

namespace fs = std::filesystem;

const char* kTwoSteps = R"([
    {"id": "c", "op": "raster.calc", "expression": "a * 2"},
    {"id": "d", "op": "raster.calc", "expression": "c + b", "output": true},
    {"id": "z", "op": "zonal.stats", "raster": "d", "stats": ["mean"], "output": true}])";
const char* kTwoInputs = R"({"a": {"kind": "raster"}, "b": {"kind": "raster"}})";

std::vector<run::RunInput> two_inputs(OpFixture& f) {
  return {{"a", {run::InputSource::raster(f.raster("a.tif", {{1, 2, 3, 4, 5, 6, 7, 8}}))}},
          {"b", {run::InputSource::raster(f.raster("b.tif", {{1, 1, 1, 1, 1, 1, 1, 1}}))}}};
}

TEST(RunLibrary, ThePlanSizesTheRunWithoutWritingAnything) {
  OpFixture f;
  run::RunRequest req = f.request(OpFixture::recipe(kTwoInputs, kTwoSteps), two_inputs(f));
  const std::string out = req.out;
  const run::RunPlan plan = run::plan_run(std::move(req));
  EXPECT_EQ(plan.grid.width, 4);
  EXPECT_EQ(plan.grid.height, 2);
  EXPECT_EQ(plan.districts, 2u);
  ASSERT_EQ(plan.step_plans.size(), 3u);
  EXPECT_EQ(plan.step_plans[1].estimate.bytes_read, 8u * 2 * 4);  // two float32 bands of 8 cells
  EXPECT_GE(plan.peak_memory, run::kProcessBaseBytes);
  const auto j = plan.to_json();
  EXPECT_EQ(j["estimate"]["peak_memory_bytes"], plan.peak_memory);
  EXPECT_EQ(j["outputs"], nlohmann::json::array({"d.tif", "z.csv", "z.geojson", "z.gpkg", "report.html", "provenance.json"}));
  EXPECT_FALSE(fs::exists(out));
}

TEST(RunLibrary, EventsSayEachStepStartAndEnd) {
  OpFixture f;
  std::vector<std::string> seen;
  run::RunCallbacks cb;
  cb.on_event = [&](const run::RunEvent& e) {
    if (e.kind == run::RunEvent::Kind::kStepStarted) seen.push_back("start " + e.step);
    if (e.kind == run::RunEvent::Kind::kStepFinished) seen.push_back("end " + e.step);
  };
  const auto r = run::execute_run(run::plan_run(f.request(OpFixture::recipe(kTwoInputs, kTwoSteps), two_inputs(f))), cb);
  EXPECT_EQ(seen, (std::vector<std::string>{"start c", "end c", "start d", "end d", "start z", "end z"}));
  ASSERT_EQ(r.step_times.size(), 3u);
  EXPECT_GT(r.step_times[1].bytes_written, 0u);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "mean", "west"), (3 + 5 + 11 + 13) / 4.0);
}

TEST(RunLibrary, CancellingLeavesNoOutputFolder) {
  OpFixture f;
  core::CancelToken token;
  run::RunCallbacks cb;
  cb.cancel = &token;
  cb.on_event = [&](const run::RunEvent& e) {
    if (e.kind == run::RunEvent::Kind::kStepFinished && e.step == "d") token.cancel();
  };
  run::RunRequest req = f.request(OpFixture::recipe(kTwoInputs, kTwoSteps), two_inputs(f));
  const std::string out = req.out;
  try {
    run::execute_run(run::plan_run(std::move(req)), cb);
    FAIL() << "the run must stop";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), core::ErrorCode::kCancelled);
  }
  EXPECT_FALSE(fs::exists(out));
  for (const auto& name : f.dir.files()) EXPECT_EQ(name.find("sco-partial"), std::string::npos) << name;
}

TEST(RunLibrary, AnErrorWhileAStepRunsNamesTheStepAndItsOp) {
  OpFixture f;
  auto inputs = two_inputs(f);
  const std::string b = inputs[1].sources[0].file;
  run::RunCallbacks cb;
  cb.on_event = [&](const run::RunEvent& e) {
    if (e.kind == run::RunEvent::Kind::kStepStarted && e.step == "d") fs::remove(b);  // the file goes away mid-run
  };
  run::RunRequest req = f.request(OpFixture::recipe(kTwoInputs, kTwoSteps), std::move(inputs));
  const std::string out = req.out;
  const std::string e = OpFixture::error_of([&] { run::execute_run(run::plan_run(std::move(req)), cb); });
  EXPECT_EQ(e.rfind("step 'd' (raster.calc): ", 0), 0u) << e;
  EXPECT_FALSE(fs::exists(out));
}

TEST(RunLibrary, TheAreaOfInterestAsGeoJsonText) {
  const auto a = run::AreaOfInterest::from_geojson(kDistricts, "name");
  EXPECT_EQ(a.zones.ids, (std::vector<std::string>{"west", "east"}));
  EXPECT_EQ(a.zones.numeric_field("pop"), (std::vector<double>{1000, 200}));
  const std::string e = OpFixture::error_of([] { run::AreaOfInterest::from_geojson("{\"type\": \"Nothing\"", "name"); });
  EXPECT_EQ(e.rfind("area of interest: ", 0), 0u) << e;
  EXPECT_EQ(e.find("/vsimem/"), std::string::npos) << e;
}

TEST(RunLibrary, DocsStepTableIsTheRegistrys) {
  std::ifstream f(std::string(SCO_SOURCE_DIR) + "/docs/recipes.md");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  const auto a = doc.find("| op | fields | result |"), b = doc.find("<!-- steps end -->");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(doc.substr(a, b - a), run::ops_markdown()) << "regenerate with: sco indicators --ops-markdown (docs/recipes.md, between the markers)";
  for (const run::StepOp* op : run::step_ops()) EXPECT_NE(run::find_op(op->name() == "index.NAME" ? "index.ndvi" : op->name()), nullptr);
}

}  // namespace
}  // namespace sco::test
