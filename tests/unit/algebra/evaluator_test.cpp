#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "algebra/block_evaluator.hpp"
#include "algebra/expression.hpp"

using namespace sco;
using namespace sco::algebra;
using core::DataType;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Input {
  Input(std::string n, std::vector<double> v, DataType t = DataType::kFloat32, std::optional<double> nd = std::nullopt,
        std::vector<std::uint8_t> m = {})
      : name(std::move(n)), values(std::move(v)), type(t), nodata(nd), mask(std::move(m)) {}
  std::string name;
  std::vector<double> values;     // stored as `type`
  DataType type;
  std::optional<double> nodata;
  std::vector<std::uint8_t> mask;  // empty: no mask
};

// Evaluates `expr` on one row of pixels; returns the output row as doubles (nodata as written).
std::vector<double> eval(const std::string& expr, const std::vector<Input>& inputs, DataType out_type = DataType::kFloat32,
                         double out_nodata = kNaN, Precision precision = Precision::kFloat32) {
  std::vector<std::string> names;
  for (const auto& in : inputs) names.push_back(in.name);
  const Program program = Program::compile(parse_expression(expr), names);
  const int n = static_cast<int>(inputs.empty() ? 4 : inputs[0].values.size());
  std::vector<std::vector<std::byte>> storage;
  std::vector<core::BlockView> views;
  for (const auto& in : inputs) {
    std::vector<std::byte> bytes(in.values.size() * core::size_of(in.type));
    for (std::size_t i = 0; i < in.values.size(); ++i) {
      const double v = in.values[i];
      switch (in.type) {
        case DataType::kByte: reinterpret_cast<std::uint8_t*>(bytes.data())[i] = static_cast<std::uint8_t>(v); break;
        case DataType::kUInt16: reinterpret_cast<std::uint16_t*>(bytes.data())[i] = static_cast<std::uint16_t>(v); break;
        case DataType::kInt16: reinterpret_cast<std::int16_t*>(bytes.data())[i] = static_cast<std::int16_t>(v); break;
        case DataType::kInt32: reinterpret_cast<std::int32_t*>(bytes.data())[i] = static_cast<std::int32_t>(v); break;
        case DataType::kFloat32: reinterpret_cast<float*>(bytes.data())[i] = static_cast<float>(v); break;
        case DataType::kFloat64: reinterpret_cast<double*>(bytes.data())[i] = v; break;
        default: ADD_FAILURE() << "type not used in tests";
      }
    }
    storage.push_back(std::move(bytes));
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    core::BlockView v;
    v.type = inputs[k].type;
    v.data = storage[k].data();
    v.pitch = n;
    v.width = n;
    v.height = 1;
    v.nodata = inputs[k].nodata;
    if (!inputs[k].mask.empty()) {
      v.mask = inputs[k].mask.data();
      v.mask_pitch = n;
    }
    views.push_back(v);
  }
  std::vector<std::byte> out_bytes(static_cast<std::size_t>(n) * core::size_of(out_type));
  core::MutableBlockView out{out_type, out_bytes.data(), n, n, 1, out_nodata};
  BlockEvaluator ev(program, precision);
  ev.evaluate(views, out);
  std::vector<double> result(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (out_type) {
      case DataType::kByte: result[i] = reinterpret_cast<std::uint8_t*>(out_bytes.data())[i]; break;
      case DataType::kInt16: result[i] = reinterpret_cast<std::int16_t*>(out_bytes.data())[i]; break;
      case DataType::kUInt16: result[i] = reinterpret_cast<std::uint16_t*>(out_bytes.data())[i]; break;
      case DataType::kFloat32: result[i] = reinterpret_cast<float*>(out_bytes.data())[i]; break;
      case DataType::kFloat64: result[i] = reinterpret_cast<double*>(out_bytes.data())[i]; break;
      default: ADD_FAILURE();
    }
  }
  return result;
}

void expect_values(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "pixel " << i << " = " << got[i] << ", want nodata (NaN)";
    } else {
      EXPECT_NEAR(got[i], want[i], tol) << "pixel " << i;
    }
  }
}

}  // namespace

TEST(Evaluator, ArithmeticAndPrecedence) {
  Input a{"a", {1, 2, 3, 4}};
  Input b{"b", {10, 20, 30, 40}};
  expect_values(eval("a + b * 2", {a, b}), {21, 42, 63, 84});
  expect_values(eval("(a + b) * 2", {a, b}), {22, 44, 66, 88});
  expect_values(eval("b / a - 1", {a, b}), {9, 9, 9, 9});
  expect_values(eval("-a ^ 2", {a}), {-1, -4, -9, -16});
  expect_values(eval("2 ^ a", {a}), {2, 4, 8, 16});
  expect_values(eval("10 - a", {a}), {9, 8, 7, 6});  // constant on the left
}

TEST(Evaluator, ComparisonsAndLogic) {
  Input a{"a", {1, 2, 3, 4}};
  expect_values(eval("a > 2", {a}), {0, 0, 1, 1});
  expect_values(eval("a >= 2 and a <= 3", {a}), {0, 1, 1, 0});
  expect_values(eval("a == 1 or a == 4", {a}), {1, 0, 0, 1});
  expect_values(eval("not (a != 3)", {a}), {0, 0, 1, 0});
  expect_values(eval("where(a > 2, a * 10, -a)", {a}), {-1, -2, 30, 40});
}

TEST(Evaluator, Functions) {
  Input a{"a", {-4, 0.25, 9, 16}};
  expect_values(eval("abs(a)", {a}), {4, 0.25, 9, 16});
  expect_values(eval("sqrt(a)", {a}), {kNaN, 0.5, 3, 4});  // sqrt(-4) is outside the domain: nodata
  expect_values(eval("log(a)", {a}), {kNaN, std::log(0.25), std::log(9.0), std::log(16.0)}, 1e-6);
  expect_values(eval("log10(a)", {a}), {kNaN, std::log10(0.25), std::log10(9.0), std::log10(16.0)}, 1e-6);
  expect_values(eval("min(a, 1, 5)", {a}), {-4, 0.25, 1, 1});
  expect_values(eval("max(a, 1)", {a}), {1, 1, 9, 16});
  expect_values(eval("clamp(a, 0, 10)", {a}), {0, 0.25, 9, 10});
  expect_values(eval("pow(a, 0.5)", {a}), {kNaN, 0.5, 3, 4});
  expect_values(eval("exp(a / 4)", {a}), {std::exp(-1.0), std::exp(0.0625), std::exp(2.25), std::exp(4.0)}, 1e-5);
  expect_values(eval("floor(a / 2) + ceil(a / 2)", {a}), {-4, 1, 9, 16});
  expect_values(eval("round(a / 8)", {a}), {-1, 0, 1, 2});  // -0.5 rounds away from zero
}

TEST(Evaluator, TrigonometrySignAndModulo) {
  Input a{"a", {-1, 0, 0.5, 2}};
  const double pi = std::acos(-1.0);
  expect_values(eval("sin(a * 3.141592653589793 / 2)", {a}), {-1, 0, std::sin(pi / 4), 0}, 1e-6);
  expect_values(eval("cos(a * 3.141592653589793)", {a}), {-1, 1, 0, 1}, 1e-6);
  expect_values(eval("tan(a)", {a}), {std::tan(-1.0), 0, std::tan(0.5), std::tan(2.0)}, 1e-5);
  expect_values(eval("asin(a)", {a}), {-pi / 2, 0, std::asin(0.5), kNaN}, 1e-6);  // asin(2): outside the domain
  expect_values(eval("acos(a)", {a}), {pi, pi / 2, std::acos(0.5), kNaN}, 1e-6);
  expect_values(eval("atan(a)", {a}), {-pi / 4, 0, std::atan(0.5), std::atan(2.0)}, 1e-6);
  expect_values(eval("sign(a)", {a}), {-1, 0, 1, 1});
  // the sign of the divisor, as openEO's mod: -1 mod 3 = 2, 2 mod -3 = -1; mod 0 is nodata
  Input b{"b", {3, 0, 0.3, -3}};
  expect_values(eval("mod(a, b)", {a, b}), {2, kNaN, 0.2, -1}, 1e-6);
  expect_values(eval("mod(7, 3)", {}), {1, 1, 1, 1});  // folded as a constant
}

TEST(Evaluator, DivisionByZeroIsNodata) {
  Input a{"a", {1, 0, -1, 4}};
  Input b{"b", {0, 0, 0, 2}};
  expect_values(eval("a / b", {a, b}), {kNaN, kNaN, kNaN, 2});
  // where() takes only the branch it chooses, so a guarded division is valid everywhere.
  expect_values(eval("where(b == 0, 0, a / b)", {a, b}), {0, 0, 0, 2});
  // A constant division by zero folds to infinity, which is written as nodata.
  expect_values(eval("a + 1 / 0", {a}), {kNaN, kNaN, kNaN, kNaN});
}

TEST(Evaluator, NodataSpreadsThroughOperations) {
  Input a{"a", {5, -9999, 3, 7}, DataType::kInt16, -9999};
  Input b{"b", {1, 1, 0, 2}, DataType::kByte, 0};  // 0 is b's nodata
  expect_values(eval("a + b", {a, b}), {6, kNaN, kNaN, 9});
  expect_values(eval("isnodata(a) + 10 * isnodata(b)", {a, b}), {0, 1, 10, 0});
  expect_values(eval("where(isnodata(a), 0, a)", {a}), {5, 0, 3, 7});
  // A condition that is nodata makes the result nodata, whichever branch.
  expect_values(eval("where(a > 4, 1, 2)", {a}), {1, kNaN, 2, 1});
  // Integer output: nodata becomes the output's nodata value.
  expect_values(eval("a * 2", {a}, DataType::kInt16, -32768), {10, -32768, 6, 14});
}

TEST(Evaluator, NaNAndMasksAreNodata) {
  Input a{"a", {1, kNaN, 3, 4}};
  Input m{"m", {1, 1, 1, 1}, DataType::kFloat32, std::nullopt, {255, 255, 0, 255}};
  expect_values(eval("a * m", {a, m}), {1, kNaN, kNaN, 4});
}

TEST(Evaluator, TypesPromoteToFloat) {
  // UInt16 inputs: 30000 + 40000 overflows uint16 but not float32.
  Input a{"a", {30000, 65535, 0, 1}, DataType::kUInt16};
  Input b{"b", {40000, 65535, 1, 2}, DataType::kUInt16};
  expect_values(eval("a + b", {a, b}), {70000, 131070, 1, 3});
  expect_values(eval("(b - a) / (b + a)", {a, b}), {10000.0 / 70000.0, 0, 1, 1.0 / 3.0});
  // Byte inputs, integer division in float: 3 / 2 = 1.5, not 1.
  Input c{"c", {3, 1, 255, 0}, DataType::kByte};
  expect_values(eval("c / 2", {c}), {1.5, 0.5, 127.5, 0});
}

TEST(Evaluator, IntegerOutputRoundsAndSaturates) {
  Input a{"a", {-3.7, 2.5, 300.2, 127.5}, DataType::kFloat64};
  // byte: -3.7 saturates to 0, 2.5 rounds to even (2), 300.2 saturates to 255... which is byte's
  // default nodata, so tests pass nodata explicitly: 254 here.
  expect_values(eval("a", {a}, DataType::kByte, 254), {0, 2, 255, 128});
  expect_values(eval("a", {a}, DataType::kInt16, -32768), {-4, 2, 300, 128});
}

TEST(Evaluator, DoublePrecisionOnRequest) {
  // 16777217 = 2^24 + 1 is not a float32 value; double precision keeps it.
  Input a{"a", {16777216, 0, 0, 0}, DataType::kFloat64};
  expect_values(eval("a + 1", {a}, DataType::kFloat64, kNaN, Precision::kFloat64), {16777217, 1, 1, 1}, 0);
  expect_values(eval("a + 1", {a}, DataType::kFloat64, kNaN, Precision::kFloat32), {16777216, 1, 1, 1}, 0);
}

TEST(Evaluator, ScaleAndOffsetApplyAfterNodataTest) {
  Input a{"a", {0, 10000, 5000, 65535}, DataType::kUInt16, 65535};
  std::vector<std::string> names{"a"};
  const Program p = Program::compile(parse_expression("a"), names);
  std::vector<std::uint16_t> data = {0, 10000, 5000, 65535};
  core::BlockView v;
  v.type = DataType::kUInt16;
  v.data = data.data();
  v.pitch = 4;
  v.width = 4;
  v.height = 1;
  v.nodata = 65535;
  v.scale = 0.0001;
  v.offset = -0.1;
  std::vector<float> out(4);
  core::MutableBlockView o{DataType::kFloat32, out.data(), 4, 4, 1, kNaN};
  BlockEvaluator ev(p, Precision::kFloat32);
  ev.evaluate(std::span<const core::BlockView>(&v, 1), o);
  expect_values({out.begin(), out.end()}, {-0.1, 0.9, 0.4, kNaN});
}

TEST(Evaluator, BlocksWiderThanAChunkAndWithPitch) {
  // 2 rows of 2500 pixels (three chunks per row), stored with a pitch of 2600.
  const int w = 2500, h = 2, pitch = 2600;
  std::vector<float> a(static_cast<std::size_t>(pitch) * h, -1.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) a[static_cast<std::size_t>(y) * pitch + x] = static_cast<float>(x + 10000 * y);
  std::vector<std::string> names{"a"};
  const Program p = Program::compile(parse_expression("a * 2 + 1"), names);
  core::BlockView v;
  v.type = DataType::kFloat32;
  v.data = a.data();
  v.pitch = pitch;
  v.width = w;
  v.height = h;
  std::vector<double> out(static_cast<std::size_t>(w) * h);
  core::MutableBlockView o{DataType::kFloat64, out.data(), w, w, h, kNaN};
  BlockEvaluator ev(p, Precision::kFloat64);
  ev.evaluate(std::span<const core::BlockView>(&v, 1), o);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ASSERT_EQ(out[static_cast<std::size_t>(y) * w + x], 2.0 * (x + 10000 * y) + 1) << x << "," << y;
}

TEST(Evaluator, ConstantExpressionFillsOutput) {
  Input a{"a", {1, 2, 3, 4}};
  expect_values(eval("a * 0 + 2 * 3", {a}), {6, 6, 6, 6});
}

TEST(Program, FoldsConstantsAndReusesRegisters) {
  std::vector<std::string> names{"a", "b"};
  const Program p = Program::compile(parse_expression("a * (2 * 0.5) + (3 - 3)"), names);
  // (2 * 0.5) and (3 - 3) fold: one multiply and one add remain.
  EXPECT_EQ(p.instructions().size(), 2u);
  EXPECT_FALSE(p.input_used(1));
  // A deep left-leaning chain needs one temporary register beyond the inputs.
  const Program chain = Program::compile(parse_expression("a + b + a + b + a + b + a"), names);
  EXPECT_EQ(chain.register_count(), 3);
}

TEST(Program, UnknownInputNamesTheColumn) {
  std::vector<std::string> names{"nir", "red"};
  try {
    Program::compile(parse_expression("(nir - rde) / 2"), names);
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 8: unknown input 'rde' (inputs: nir, red)"), std::string::npos)
        << e.what();
  }
}
