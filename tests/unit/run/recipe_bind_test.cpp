// Recipe parsing (indicators) and step binding (the run library's op registry): each error names the
// recipe, the step and the field, or the line and column of a JSON syntax error.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "indicators/builtin.hpp"
#include "indicators/recipe.hpp"
#include "indicators/tables.hpp"
#include "run/step_op.hpp"

namespace sco::indicators {
namespace {

using run::bind_steps;
using run::table_columns;

const char* kValid = R"({
  "sco_recipe": 1, "id": "t.hot", "version": "1", "title": "t",
  "inputs": {"tas": {"kind": "cube"}, "dem": {"kind": "raster"}},
  "parameters": {"thr": {"type": "number", "default": 25, "minimum": -50, "maximum": 60},
                 "start": {"type": "string", "default": "1999-06"}},
  "steps": [
    {"id": "hot", "op": "cube.reduce", "input": "tas", "reducer": "count_above", "threshold": "$thr",
     "period": ["${start}", "1999-08"], "output": true},
    {"id": "z", "op": "zonal.stats", "raster": "hot", "stats": ["mean", "max"], "output": true,
     "classes": {"column": "mean", "thresholds": [1, "$thr"]}}
  ]})";

// Parsed, then its steps bound with the defaults (what run::load_recipe does with a file).
std::string error_of(const std::string& text) {
  try {
    const Recipe r = parse_recipe(text, "r.json");
    bind_steps(r, bind_parameters(r, {}));
  } catch (const core::Error& e) {
    return e.what();
  }
  return "";
}

std::string with_step(const std::string& step) {
  return std::string(R"({"sco_recipe": 1, "id": "x", "version": "1", "title": "t",
    "inputs": {"tas": {"kind": "cube"}, "img": {"kind": "image"}, "dem": {"kind": "raster"}},
    "parameters": {"p": {"type": "number", "default": 1}},
    "steps": [)") + step + "]}";
}

TEST(Recipe, ParsesAndSubstitutesParameters) {
  const Recipe r = parse_recipe(kValid, "r.json");
  EXPECT_EQ(r.id, "t.hot");
  EXPECT_EQ(r.hash.size(), 64u);
  const ParamValues v = bind_parameters(r, {{"thr", "30"}});
  const auto steps = bind_steps(r, v);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].reducer.kind, cube::SeriesOpKind::kCountAbove);
  EXPECT_DOUBLE_EQ(steps[0].reducer.param, 30.0);
  EXPECT_EQ(steps[0].period.start, "1999-06");
  EXPECT_EQ(steps[0].period.first, 19990601);
  EXPECT_EQ(steps[0].period.last, 19990831);
  EXPECT_DOUBLE_EQ(steps[1].classes.thresholds.at(1), 30.0);
  EXPECT_EQ(table_columns(steps[1]), (std::vector<std::string>{"mean", "max", "class"}));
  // The same text gives the same hash; whitespace does not matter (canonical JSON).
  std::string spaced = kValid;
  spaced.insert(1, "\n   ");
  EXPECT_EQ(parse_recipe(spaced, "s.json").hash, r.hash);
}

TEST(Recipe, JsonSyntaxErrorGivesLineAndColumn) {
  const std::string e = error_of("{\n  \"id\": \"x\",\n  \"version\": ,\n}");
  EXPECT_NE(e.find("recipe 'r.json': not valid JSON at line 3, column 14"), std::string::npos) << e;
}

TEST(Recipe, StepErrorsNameStepAndField) {
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduse", "input": "tas", "output": true})"))
                .find("step 'a': field 'op': unknown op 'cube.reduse'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduce", "input": "tas", "reducer": "avg", "output": true})"))
                .find("step 'a': field 'reducer': unknown reducer 'avg'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduce", "input": "tas", "colour": 1, "output": true})"))
                .find("step 'a': unknown field 'colour'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduce", "input": "dem", "output": true})"))
                .find("step 'a': field 'input': input 'dem' is a raster; this step needs a cube"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduce", "input": "tas", "reducer": "count_above", "output": true})"))
                .find("field 'threshold'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.reduce", "input": "tas", "threshold": "$q", "reducer": "count_above", "output": true})"))
                .find("step 'a': field 'threshold': '$q' names no parameter"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "raster.calc", "expression": "dem * (2 +", "output": true})"))
                .find("step 'a': field 'expression'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "raster.calc", "expression": "dem * later", "output": true})"))
                .find("'later' is neither an input nor an earlier step"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.anomaly", "input": "tas", "baseline": ["1990", "1980"], "output": true})"))
                .find("field 'baseline': the period ends (1980) before it starts (1990)"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "cube.anomaly", "input": "tas", "baseline": ["1990-13", "1999"], "output": true})"))
                .find("'1990-13' is not a date"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "index.ndvx", "input": "img", "sensor": "landsat7", "output": true})"))
                .find("field 'op': unknown index 'ndvx'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "zonal.stats", "raster": "dem", "stats": ["mean", "modus"], "output": true})"))
                .find("step 'a': field 'stats'"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "zonal.stats", "raster": "dem", "stats": ["mean"], "output": true,
                                   "classes": {"column": "median", "thresholds": [1, 2]}})"))
                .find("field 'classes.column': 'median' is not a column"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "zonal.stats", "raster": "dem", "stats": ["mean"]})"))
                .find("no step has \"output\": true"), std::string::npos);
  EXPECT_NE(error_of(with_step(R"({"id": "a", "op": "zonal.stats", "raster": "dem", "stats": ["mean"]},
                                  {"id": "b", "op": "risk", "hazard": {"step": "a", "column": "max"}, "output": true})"))
                .find("field 'hazard.column': step 'a' has no numeric column 'max'"), std::string::npos);
}

TEST(Recipe, RequiredParametersAreCheckedWithTheRunsValues) {
  // A required date parameter: the recipe loads; its steps are checked once the value is given.
  const std::string text = R"({"sco_recipe": 1, "id": "x", "version": "1", "title": "t", "inputs": {"tas": {"kind": "cube"}},
    "parameters": {"start": {"type": "string"}},
    "steps": [{"id": "a", "op": "cube.anomaly", "input": "tas", "baseline": ["${start}", "2000"], "output": true}]})";
  const Recipe r = parse_recipe(text, "r.json");
  EXPECT_THROW(bind_parameters(r, {}), core::Error);  // needs --param start=...
  const auto steps = bind_steps(r, bind_parameters(r, {{"start", "1991"}}));
  EXPECT_EQ(steps[0].baseline.first, 19910101);
  try {
    bind_steps(r, bind_parameters(r, {{"start", "soon"}}));
    FAIL() << "a bad date must be refused";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 'a': field 'baseline': 'soon' is not a date"), std::string::npos) << e.what();
  }
}

TEST(Recipe, ParameterErrorsNameTheParameter) {
  const Recipe r = parse_recipe(kValid, "r.json");
  auto err = [&](const std::string& k, const std::string& v) {
    try {
      bind_parameters(r, {{k, v}});
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err("thresh", "3").find("has no parameter 'thresh' (parameters: start, thr)"), std::string::npos) << err("thresh", "3");
  EXPECT_NE(err("thr", "hot").find("--param thr: 'hot' is not a number"), std::string::npos);
  EXPECT_NE(err("thr", "99").find("parameter thr=99 is outside -50..60"), std::string::npos) << err("thr", "99");
}

TEST(Recipe, EveryBuiltinParsesAndIsDocumented) {
  const auto& all = builtin_recipes();
  ASSERT_GE(all.size(), 9u);
  std::ifstream f(std::string(SCO_SOURCE_DIR) + "/docs/indicators.md");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  for (const auto& r : all) {
    EXPECT_FALSE(r.references.empty()) << r.id;
    EXPECT_NE(doc.find("`" + r.id + "`"), std::string::npos) << r.id << " is not in docs/indicators.md";
    EXPECT_NO_THROW(bind_steps(r, bind_parameters(r, {})));
  }
  EXPECT_NE(find_builtin("heat.trend"), nullptr);
}

TEST(Tables, ClassesAndRisk) {
  ClassSpec c;
  c.thresholds = {1, 3};
  EXPECT_EQ(classify(0.99, c), "low");
  EXPECT_EQ(classify(1.0, c), "medium");
  EXPECT_EQ(classify(3.0, c), "high");
  EXPECT_EQ(classify(std::nan(""), c), "");
  // The SPI's seven classes (WMO-No. 1090): six thresholds, seven labels.
  ClassSpec spi;
  spi.thresholds = {-2, -1.5, -1, 1, 1.5, 2};
  spi.labels = {"extremely dry", "severely dry", "moderately dry", "near normal", "moderately wet", "very wet", "extremely wet"};
  EXPECT_EQ(classify(-2.5, spi), "extremely dry");
  EXPECT_EQ(classify(-2.0, spi), "severely dry");
  EXPECT_EQ(classify(-1.0, spi), "near normal");
  EXPECT_EQ(classify(0.99, spi), "near normal");
  EXPECT_EQ(classify(1.0, spi), "moderately wet");
  EXPECT_EQ(classify(2.0, spi), "extremely wet");
  // hazard 2, 4, 6 -> 0, .5, 1; exposure 10, 10, 30 -> 0, 0, 1; vulnerability missing -> 1.
  const auto r = combine_risk({2, 4, 6}, {10, 10, 30}, {});
  EXPECT_DOUBLE_EQ(r.hazard_norm[1], 0.5);
  EXPECT_DOUBLE_EQ(r.risk[0], 0.0);
  EXPECT_DOUBLE_EQ(r.risk[1], 0.0);
  EXPECT_DOUBLE_EQ(r.risk[2], 1.0);
  const auto flat = normalise({5, 5, std::nan("")});
  EXPECT_DOUBLE_EQ(flat[0], 1.0);
  EXPECT_TRUE(std::isnan(flat[2]));
  EXPECT_DOUBLE_EQ(normalise({0, 0})[0], 0.0);
}

// Found by fuzz/fuzz_recipe: a field of the wrong JSON type threw a library exception (a crash of
// the command); now one error naming the field, or the recipe and the type mismatch.
TEST(Recipe, WrongJsonTypesAreErrorsNotCrashes) {
  std::string bad = kValid;
  bad.replace(bad.find("\"maximum\": 60"), 13, "\"maximum\": \"60\"");
  EXPECT_NE(error_of(bad).find("field 'parameters.thr.maximum': expected a number"), std::string::npos) << error_of(bad);
  bad = kValid;
  bad.replace(bad.find("\"type\": \"string\""), 16, "\"type\": 7");
  EXPECT_NE(error_of(bad).find("recipe 'r.json'"), std::string::npos) << error_of(bad);
  EXPECT_NE(error_of(R"({"sco_recipe": 1, "id": "x", "version": 1e999})").find("recipe 'r.json'"), std::string::npos);
}

}  // namespace
}  // namespace sco::indicators
