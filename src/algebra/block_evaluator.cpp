#include "algebra/block_evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"

namespace sco::algebra {

using core::DataType;

namespace {

constexpr int kChunk = BlockEvaluator::kChunk;

template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

// x - x is 0 for finite x and NaN for infinities and NaN; unlike std::isfinite, it vectorises.
template <typename T>
inline bool finite(T x) {
  return (x - x) == T(0);
}
template <typename T>
inline bool is_nan(T x) {
  return x != x;
}

// Converts n source values to T (value * scale + offset); nodata, NaN and masked pixels become NaN.
template <typename T, typename Src>
void load(const core::BlockView& in, const void* row, int x0, int n, T* dst, const std::uint8_t* mask_row) {
  const Src* s = static_cast<const Src*>(row) + x0;
  const T scale = static_cast<T>(in.scale);
  const T offset = static_cast<T>(in.offset);
  const bool affine = scale != T(1) || offset != T(0);
  const std::optional<Src> nd = core::nodata_as<Src>(in.nodata);
  const bool nodata_test = nd.has_value();
  const Src nodata = nd.value_or(Src{});
  // Separate loops per case keep each one simple enough to vectorise. NaN inputs stay NaN.
  if (nodata_test) {
    if (affine) {
      for (int i = 0; i < n; ++i) dst[i] = s[i] == nodata ? kNaN<T> : static_cast<T>(s[i]) * scale + offset;
    } else {
      for (int i = 0; i < n; ++i) dst[i] = s[i] == nodata ? kNaN<T> : static_cast<T>(s[i]);
    }
  } else if (affine) {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<T>(s[i]) * scale + offset;
  } else {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<T>(s[i]);
  }
  if (mask_row != nullptr) {
    const std::uint8_t* m = mask_row + x0;
    for (int i = 0; i < n; ++i) dst[i] = m[i] != 0 ? dst[i] : kNaN<T>;
  }
}

template <typename T>
void load_any(const core::BlockView& in, int y, int x0, int n, T* dst) {
  const void* row = in.row(y);
  const std::uint8_t* mask_row = in.mask ? in.mask + static_cast<std::ptrdiff_t>(y) * in.mask_pitch : nullptr;
  switch (in.type) {
    case DataType::kByte: return load<T, std::uint8_t>(in, row, x0, n, dst, mask_row);
    case DataType::kInt8: return load<T, std::int8_t>(in, row, x0, n, dst, mask_row);
    case DataType::kUInt16: return load<T, std::uint16_t>(in, row, x0, n, dst, mask_row);
    case DataType::kInt16: return load<T, std::int16_t>(in, row, x0, n, dst, mask_row);
    case DataType::kUInt32: return load<T, std::uint32_t>(in, row, x0, n, dst, mask_row);
    case DataType::kInt32: return load<T, std::int32_t>(in, row, x0, n, dst, mask_row);
    case DataType::kFloat32: return load<T, float>(in, row, x0, n, dst, mask_row);
    case DataType::kFloat64: return load<T, double>(in, row, x0, n, dst, mask_row);
  }
}

// Per-chunk statistics of the finite values, added to the running totals in double.
template <typename T>
void accumulate_scalar(const T* v, int n, core::RunningStats& s) {
  for (int i = 0; i < n; ++i) {
    if (!finite(v[i])) continue;
    const double x = static_cast<double>(v[i]);
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    s.sum += x;
    s.sum_sq += x * x;
    ++s.count;
  }
  s.total += n;
}

// Float chunks use explicit 4-lane vectors (GCC/Clang vector extensions): the compiler will not
// vectorise float reductions by itself without -ffast-math, which would break the NaN rules. Lane
// partial sums cover at most kChunk / 4 values, so float round-off stays below 1e-5 relative.
typedef float Vec4f __attribute__((vector_size(16)));
typedef std::int32_t Vec4i __attribute__((vector_size(16)));

void accumulate(const float* v, int n, core::RunningStats& s) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const Vec4f zero = {0, 0, 0, 0};
  const Vec4f one = {1, 1, 1, 1};
  const Vec4f inf = {kInf, kInf, kInf, kInf};
  Vec4f lo = inf, hi = -inf, sum = zero, sq = zero, cnt = zero;
  const int full = n - n % 4;
  for (int i = 0; i < full; i += 4) {
    Vec4f x;
    std::memcpy(&x, v + i, sizeof x);
    const Vec4i ok = (x - x) == zero;  // finite lanes
    const Vec4f z = ok ? x : zero;
    const Vec4f x_lo = ok ? x : inf;
    const Vec4f x_hi = ok ? x : -inf;
    lo = x_lo < lo ? x_lo : lo;
    hi = x_hi > hi ? x_hi : hi;
    sum += z;
    sq += z * z;
    cnt += ok ? one : zero;
  }
  double total_sum = 0.0, total_sq = 0.0, count = 0.0;
  for (int k = 0; k < 4; ++k) {
    s.min = std::min(s.min, static_cast<double>(lo[k]));
    s.max = std::max(s.max, static_cast<double>(hi[k]));
    total_sum += static_cast<double>(sum[k]);
    total_sq += static_cast<double>(sq[k]);
    count += static_cast<double>(cnt[k]);
  }
  s.sum += total_sum;
  s.sum_sq += total_sq;
  s.count += static_cast<std::int64_t>(count);
  s.total += full;
  accumulate_scalar(v + full, n - full, s);
}

void accumulate(const double* v, int n, core::RunningStats& s) { accumulate_scalar(v, n, s); }

template <typename T, typename Dst>
void store(const T* v, int n, void* out_row, int x0, double nodata_value, core::RunningStats* stats) {
  Dst* d = static_cast<Dst*>(out_row) + x0;
  const Dst nd = static_cast<Dst>(nodata_value);
  if constexpr (std::numeric_limits<Dst>::is_integer) {
    const T lo = static_cast<T>(std::numeric_limits<Dst>::min());
    const T hi = static_cast<T>(std::numeric_limits<Dst>::max());
    for (int i = 0; i < n; ++i) {
      const T c = v[i] < lo ? lo : (v[i] > hi ? hi : v[i]);
      d[i] = finite(v[i]) ? static_cast<Dst>(std::nearbyint(c)) : nd;
    }
    if (stats) {
      // Statistics of what was written: the rounded values, without pixels equal to nodata.
      for (int i = 0; i < n; ++i) {
        if (d[i] == nd) {
          ++stats->total;
          continue;
        }
        const double x = static_cast<double>(d[i]);
        stats->min = std::min(stats->min, x);
        stats->max = std::max(stats->max, x);
        stats->sum += x;
        stats->sum_sq += x * x;
        ++stats->count;
        ++stats->total;
      }
    }
  } else {
    for (int i = 0; i < n; ++i) d[i] = finite(v[i]) ? static_cast<Dst>(v[i]) : nd;
    if (stats) accumulate(v, n, *stats);
  }
}

template <typename T>
void store_any(const T* v, int n, const core::MutableBlockView& out, int y, int x0, core::RunningStats* stats) {
  void* row = out.row(y);
  switch (out.type) {
    case DataType::kByte: return store<T, std::uint8_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kInt8: return store<T, std::int8_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kUInt16: return store<T, std::uint16_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kInt16: return store<T, std::int16_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kUInt32: return store<T, std::uint32_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kInt32: return store<T, std::int32_t>(v, n, row, x0, out.nodata, stats);
    case DataType::kFloat32: return store<T, float>(v, n, row, x0, out.nodata, stats);
    case DataType::kFloat64: return store<T, double>(v, n, row, x0, out.nodata, stats);
  }
}

// One register-or-constant operand.
template <typename T>
struct Arg {
  const T* p;
  T k;
  bool is_const;
};

template <typename T, typename F>
inline void map_unary(T* d, const Arg<T>& a, int n, F f) {
  const T* pa = a.p;
  for (int i = 0; i < n; ++i) d[i] = f(pa[i]);
}

// Separate loops for constant operands, so that each loop vectorises.
template <typename T, typename F>
inline void map_binary(T* d, const Arg<T>& a, const Arg<T>& b, int n, F f) {
  if (a.is_const) {
    const T ka = a.k;
    const T* pb = b.p;
    for (int i = 0; i < n; ++i) d[i] = f(ka, pb[i]);
  } else if (b.is_const) {
    const T* pa = a.p;
    const T kb = b.k;
    for (int i = 0; i < n; ++i) d[i] = f(pa[i], kb);
  } else {
    const T* pa = a.p;
    const T* pb = b.p;
    for (int i = 0; i < n; ++i) d[i] = f(pa[i], pb[i]);
  }
}

template <typename T, typename F>
inline void map_ternary(T* d, const Arg<T>& a, const Arg<T>& b, const Arg<T>& c, int n, F f) {
  // Constant operands are broadcast into scratch lanes once per chunk; ternaries are rare.
  for (int i = 0; i < n; ++i) {
    d[i] = f(a.is_const ? a.k : a.p[i], b.is_const ? b.k : b.p[i], c.is_const ? c.k : c.p[i]);
  }
}

// A comparison or logical result: NaN when an operand is nodata, else 1 or 0.
template <typename T>
inline T logical(bool value, T x, T z) {
  return (is_nan(x) | is_nan(z)) ? kNaN<T> : (value ? T(1) : T(0));
}

// Domain-limited results: non-finite means nodata.
template <typename T>
inline T domain(T r) {
  return finite(r) ? r : kNaN<T>;
}

template <typename T>
void run_instruction(const Instruction& in, T* d, const Arg<T>& a, const Arg<T>& b, const Arg<T>& c, int n) {
  switch (in.op) {
    case Op::kNeg: return map_unary(d, a, n, [](T x) { return -x; });
    case Op::kNot: return map_unary(d, a, n, [](T x) { return is_nan(x) ? x : (x == T(0) ? T(1) : T(0)); });
    case Op::kAbs: return map_unary(d, a, n, [](T x) { return std::abs(x); });
    case Op::kSqrt: return map_unary(d, a, n, [](T x) { return domain(std::sqrt(x)); });
    case Op::kLog: return map_unary(d, a, n, [](T x) { return domain(std::log(x)); });
    case Op::kLog10: return map_unary(d, a, n, [](T x) { return domain(std::log10(x)); });
    case Op::kExp: return map_unary(d, a, n, [](T x) { return domain(std::exp(x)); });
    case Op::kFloor: return map_unary(d, a, n, [](T x) { return std::floor(x); });
    case Op::kCeil: return map_unary(d, a, n, [](T x) { return std::ceil(x); });
    case Op::kRound: return map_unary(d, a, n, [](T x) { return std::round(x); });
    case Op::kIsNodata: return map_unary(d, a, n, [](T x) { return is_nan(x) ? T(1) : T(0); });
    case Op::kSin: return map_unary(d, a, n, [](T x) { return std::sin(x); });
    case Op::kCos: return map_unary(d, a, n, [](T x) { return std::cos(x); });
    case Op::kTan: return map_unary(d, a, n, [](T x) { return domain(std::tan(x)); });
    case Op::kAsin: return map_unary(d, a, n, [](T x) { return domain(std::asin(x)); });
    case Op::kAcos: return map_unary(d, a, n, [](T x) { return domain(std::acos(x)); });
    case Op::kAtan: return map_unary(d, a, n, [](T x) { return std::atan(x); });
    case Op::kSign: return map_unary(d, a, n, [](T x) { return is_nan(x) ? x : (x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0))); });
    case Op::kMod: return map_binary(d, a, b, n, [](T x, T z) { return domain(x - z * std::floor(x / z)); });
    case Op::kAdd: return map_binary(d, a, b, n, [](T x, T z) { return x + z; });
    case Op::kSub: return map_binary(d, a, b, n, [](T x, T z) { return x - z; });
    case Op::kMul: return map_binary(d, a, b, n, [](T x, T z) { return x * z; });
    case Op::kDiv: return map_binary(d, a, b, n, [](T x, T z) { return domain(x / z); });
    case Op::kPow: return map_binary(d, a, b, n, [](T x, T z) { return domain(std::pow(x, z)); });
    case Op::kLt: return map_binary(d, a, b, n, [](T x, T z) { return logical(x < z, x, z); });
    case Op::kLe: return map_binary(d, a, b, n, [](T x, T z) { return logical(x <= z, x, z); });
    case Op::kGt: return map_binary(d, a, b, n, [](T x, T z) { return logical(x > z, x, z); });
    case Op::kGe: return map_binary(d, a, b, n, [](T x, T z) { return logical(x >= z, x, z); });
    case Op::kEq: return map_binary(d, a, b, n, [](T x, T z) { return logical(x == z, x, z); });
    case Op::kNe: return map_binary(d, a, b, n, [](T x, T z) { return logical(x != z, x, z); });
    case Op::kAnd:
      return map_binary(d, a, b, n, [](T x, T z) { return logical((x != T(0)) & (z != T(0)), x, z); });
    case Op::kOr:
      return map_binary(d, a, b, n, [](T x, T z) { return logical((x != T(0)) | (z != T(0)), x, z); });
    case Op::kMin:
      return map_binary(d, a, b, n, [](T x, T z) { return (is_nan(x) | is_nan(z)) ? kNaN<T> : (z < x ? z : x); });
    case Op::kMax:
      return map_binary(d, a, b, n, [](T x, T z) { return (is_nan(x) | is_nan(z)) ? kNaN<T> : (z > x ? z : x); });
    case Op::kClamp:
      return map_ternary(d, a, b, c, n, [](T x, T lo, T hi) {
        return (is_nan(lo) | is_nan(hi)) ? kNaN<T> : (x < lo ? lo : (x > hi ? hi : x));
      });
    case Op::kWhere:
      // The condition's nodata wins; otherwise the branch taken, nodata or not.
      return map_ternary(d, a, b, c, n, [](T cond, T x, T z) { return is_nan(cond) ? cond : (cond != T(0) ? x : z); });
  }
}

}  // namespace

BlockEvaluator::BlockEvaluator(const Program& program, Precision precision)
    : program_(program), precision_(precision) {
  const std::size_t regs = static_cast<std::size_t>(std::max(program.register_count(), 1));
  if (precision == Precision::kFloat32) {
    values32_.assign(regs * kChunk, 0.0f);
  } else {
    values64_.assign(regs * kChunk, 0.0);
  }
}

void BlockEvaluator::evaluate(std::span<const core::BlockView> inputs, const core::MutableBlockView& out,
                              core::RunningStats* stats) {
  if (static_cast<int>(inputs.size()) < program_.input_count()) {
    core::fail(core::ErrorCode::kInternal, "evaluator got {} inputs for {} slots", inputs.size(),
               program_.input_count());
  }
  for (int i = 0; i < program_.input_count(); ++i) {
    if (program_.input_used(i) && (inputs[i].width != out.width || inputs[i].height != out.height)) {
      core::fail(core::ErrorCode::kInternal, "input {} block is {}x{}, output block {}x{}", i, inputs[i].width,
                 inputs[i].height, out.width, out.height);
    }
  }
  if (precision_ == Precision::kFloat32) {
    evaluate_typed<float>(inputs, out, stats);
  } else {
    evaluate_typed<double>(inputs, out, stats);
  }
}

template <typename T>
void BlockEvaluator::evaluate_typed(std::span<const core::BlockView> inputs, const core::MutableBlockView& out,
                                    core::RunningStats* stats) {
  T* regs;
  if constexpr (std::is_same_v<T, float>) {
    regs = values32_.data();
  } else {
    regs = values64_.data();
  }
  auto reg = [&](int r) { return regs + static_cast<std::ptrdiff_t>(r) * kChunk; };
  auto arg = [&](const Operand& o) {
    return o.is_const ? Arg<T>{nullptr, static_cast<T>(o.value), true} : Arg<T>{reg(o.reg), T(0), false};
  };
  const Operand& result = program_.result();
  for (int y = 0; y < out.height; ++y) {
    for (int x0 = 0; x0 < out.width; x0 += kChunk) {
      const int n = std::min(kChunk, out.width - x0);
      for (int s = 0; s < program_.input_count(); ++s) {
        if (program_.input_used(s)) load_any<T>(inputs[s], y, x0, n, reg(s));
      }
      for (const Instruction& in : program_.instructions()) {
        run_instruction<T>(in, reg(in.dst), arg(in.a), arg(in.b), arg(in.c), n);
      }
      if (result.is_const) {
        // The whole expression folded to a constant: broadcast it (register 0 is reloaded next chunk).
        T* tmp = reg(0);
        std::fill(tmp, tmp + n, static_cast<T>(result.value));
        store_any<T>(tmp, n, out, y, x0, stats);
      } else {
        store_any<T>(reg(result.reg), n, out, y, x0, stats);
      }
    }
  }
}

}  // namespace sco::algebra
