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

// x - x is 0 for finite x and NaN for infinities and NaN; unlike std::isfinite, it vectorises.
template <typename T>
inline std::uint8_t finite(T x) {
  return (x - x) == T(0);
}

// Converts n source values to T, applying scale and offset; writes validity and returns whether
// every value was valid.
template <typename T, typename Src>
bool load(const core::BlockView& in, const void* row, int x0, int n, T* dst, std::uint8_t* valid,
          const std::uint8_t* mask_row) {
  const Src* s = static_cast<const Src*>(row) + x0;
  const T scale = static_cast<T>(in.scale);
  const T offset = static_cast<T>(in.offset);
  if (scale == T(1) && offset == T(0)) {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<T>(s[i]);
  } else {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<T>(s[i]) * scale + offset;
  }
  constexpr bool kFloat = !std::numeric_limits<Src>::is_integer;
  bool nodata_test = false;
  Src nodata{};
  if (in.nodata) {
    const double nd = *in.nodata;
    // A nodata value the type cannot hold can never match a pixel.
    if constexpr (kFloat) {
      nodata_test = !std::isnan(nd);
      nodata = static_cast<Src>(nd);
    } else {
      if (nd >= static_cast<double>(std::numeric_limits<Src>::min()) &&
          nd <= static_cast<double>(std::numeric_limits<Src>::max()) && nd == std::floor(nd)) {
        nodata_test = true;
        nodata = static_cast<Src>(nd);
      }
    }
  }
  if (!kFloat && !nodata_test && mask_row == nullptr) return true;
  for (int i = 0; i < n; ++i) {
    std::uint8_t v = 1;
    if constexpr (kFloat) v = s[i] == s[i];
    if (nodata_test) v &= s[i] != nodata;
    valid[i] = v;
  }
  if (mask_row != nullptr) {
    const std::uint8_t* m = mask_row + x0;
    for (int i = 0; i < n; ++i) valid[i] &= m[i] != 0;
  }
  return false;
}

template <typename T>
bool load_any(const core::BlockView& in, int y, int x0, int n, T* dst, std::uint8_t* valid) {
  const void* row = in.row(y);
  const std::uint8_t* mask_row = in.mask ? in.mask + static_cast<std::ptrdiff_t>(y) * in.mask_pitch : nullptr;
  switch (in.type) {
    case DataType::kByte: return load<T, std::uint8_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kInt8: return load<T, std::int8_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kUInt16: return load<T, std::uint16_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kInt16: return load<T, std::int16_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kUInt32: return load<T, std::uint32_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kInt32: return load<T, std::int32_t>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kFloat32: return load<T, float>(in, row, x0, n, dst, valid, mask_row);
    case DataType::kFloat64: return load<T, double>(in, row, x0, n, dst, valid, mask_row);
  }
  return true;
}

template <typename T, typename Dst>
void store(const T* v, const std::uint8_t* valid, bool all_valid, int n, void* out_row, int x0,
           double nodata_value) {
  Dst* d = static_cast<Dst*>(out_row) + x0;
  const Dst nd = static_cast<Dst>(nodata_value);
  if constexpr (std::numeric_limits<Dst>::is_integer) {
    const T lo = static_cast<T>(std::numeric_limits<Dst>::min());
    const T hi = static_cast<T>(std::numeric_limits<Dst>::max());
    for (int i = 0; i < n; ++i) {
      const T r = std::nearbyint(std::clamp(v[i], lo, hi));
      const bool ok = (all_valid || valid[i]) && finite(v[i]);
      d[i] = ok ? static_cast<Dst>(r) : nd;
    }
  } else {
    for (int i = 0; i < n; ++i) {
      const bool ok = (all_valid || valid[i]) && finite(v[i]);
      d[i] = ok ? static_cast<Dst>(v[i]) : nd;
    }
  }
}

template <typename T>
void store_any(const T* v, const std::uint8_t* valid, bool all_valid, int n, const core::MutableBlockView& out,
               int y, int x0) {
  void* row = out.row(y);
  switch (out.type) {
    case DataType::kByte: return store<T, std::uint8_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kInt8: return store<T, std::int8_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kUInt16: return store<T, std::uint16_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kInt16: return store<T, std::int16_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kUInt32: return store<T, std::uint32_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kInt32: return store<T, std::int32_t>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kFloat32: return store<T, float>(v, valid, all_valid, n, row, x0, out.nodata);
    case DataType::kFloat64: return store<T, double>(v, valid, all_valid, n, row, x0, out.nodata);
  }
}

// One register-or-constant operand, read as a[i].
template <typename T>
struct Arg {
  const T* p;
  T k;
  bool is_const;
};

// Runs f over n lanes, with separate loops for constant operands so each loop vectorises.
template <typename T, typename F>
inline void map_unary(T* d, const Arg<T>& a, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a.p[i]);
}

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

template <typename T>
inline T pick(const Arg<T>& a, int i) {
  return a.is_const ? a.k : a.p[i];
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
  valid_.assign(regs * kChunk, 1);
  all_valid_.assign(regs, 1);
}

void BlockEvaluator::evaluate(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) {
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
    evaluate_typed<float>(inputs, out);
  } else {
    evaluate_typed<double>(inputs, out);
  }
}

template <typename T>
void BlockEvaluator::evaluate_typed(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) {
  T* regs;
  if constexpr (std::is_same_v<T, float>) {
    regs = values32_.data();
  } else {
    regs = values64_.data();
  }
  std::uint8_t* valid = valid_.data();
  auto reg = [&](int r) { return regs + static_cast<std::ptrdiff_t>(r) * kChunk; };
  auto vreg = [&](int r) { return valid + static_cast<std::ptrdiff_t>(r) * kChunk; };
  auto arg = [&](const Operand& o) {
    return o.is_const ? Arg<T>{nullptr, static_cast<T>(o.value), true} : Arg<T>{reg(o.reg), T(0), false};
  };
  // Validity of an operand over the chunk: nullptr when every lane is valid.
  auto varg = [&](const Operand& o) -> const std::uint8_t* {
    if (o.is_const || all_valid_[o.reg]) return nullptr;
    return vreg(o.reg);
  };

  const Operand& result = program_.result();
  for (int y = 0; y < out.height; ++y) {
    for (int x0 = 0; x0 < out.width; x0 += kChunk) {
      const int n = std::min(kChunk, out.width - x0);
      for (int s = 0; s < program_.input_count(); ++s) {
        if (!program_.input_used(s)) continue;
        all_valid_[s] = load_any<T>(inputs[s], y, x0, n, reg(s), vreg(s)) ? 1 : 0;
      }
      for (const Instruction& in : program_.instructions()) {
        T* d = reg(in.dst);
        std::uint8_t* vd = vreg(in.dst);
        const Arg<T> a = arg(in.a);
        const Arg<T> b = arg(in.b);
        const std::uint8_t* va = varg(in.a);
        const std::uint8_t* vb = varg(in.b);
        const std::uint8_t* vc = varg(in.c);
        bool dst_all_valid = va == nullptr && vb == nullptr;
        switch (in.op) {
          case Op::kNeg: map_unary(d, a, n, [](T x) { return -x; }); break;
          case Op::kNot: map_unary(d, a, n, [](T x) { return x == T(0) ? T(1) : T(0); }); break;
          case Op::kAbs: map_unary(d, a, n, [](T x) { return std::abs(x); }); break;
          case Op::kSqrt: map_unary(d, a, n, [](T x) { return std::sqrt(x); }); break;
          case Op::kLog: map_unary(d, a, n, [](T x) { return std::log(x); }); break;
          case Op::kLog10: map_unary(d, a, n, [](T x) { return std::log10(x); }); break;
          case Op::kExp: map_unary(d, a, n, [](T x) { return std::exp(x); }); break;
          case Op::kFloor: map_unary(d, a, n, [](T x) { return std::floor(x); }); break;
          case Op::kCeil: map_unary(d, a, n, [](T x) { return std::ceil(x); }); break;
          case Op::kRound: map_unary(d, a, n, [](T x) { return std::round(x); }); break;
          case Op::kAdd: map_binary(d, a, b, n, [](T x, T z) { return x + z; }); break;
          case Op::kSub: map_binary(d, a, b, n, [](T x, T z) { return x - z; }); break;
          case Op::kMul: map_binary(d, a, b, n, [](T x, T z) { return x * z; }); break;
          case Op::kDiv: map_binary(d, a, b, n, [](T x, T z) { return x / z; }); break;
          case Op::kPow: map_binary(d, a, b, n, [](T x, T z) { return std::pow(x, z); }); break;
          case Op::kLt: map_binary(d, a, b, n, [](T x, T z) { return x < z ? T(1) : T(0); }); break;
          case Op::kLe: map_binary(d, a, b, n, [](T x, T z) { return x <= z ? T(1) : T(0); }); break;
          case Op::kGt: map_binary(d, a, b, n, [](T x, T z) { return x > z ? T(1) : T(0); }); break;
          case Op::kGe: map_binary(d, a, b, n, [](T x, T z) { return x >= z ? T(1) : T(0); }); break;
          case Op::kEq: map_binary(d, a, b, n, [](T x, T z) { return x == z ? T(1) : T(0); }); break;
          case Op::kNe: map_binary(d, a, b, n, [](T x, T z) { return x != z ? T(1) : T(0); }); break;
          case Op::kAnd:
            map_binary(d, a, b, n, [](T x, T z) { return (x != T(0)) & (z != T(0)) ? T(1) : T(0); });
            break;
          case Op::kOr:
            map_binary(d, a, b, n, [](T x, T z) { return (x != T(0)) | (z != T(0)) ? T(1) : T(0); });
            break;
          case Op::kMin: map_binary(d, a, b, n, [](T x, T z) { return z < x ? z : x; }); break;
          case Op::kMax: map_binary(d, a, b, n, [](T x, T z) { return z > x ? z : x; }); break;
          case Op::kClamp: {
            const Arg<T> c = arg(in.c);
            dst_all_valid = dst_all_valid && vc == nullptr;
            for (int i = 0; i < n; ++i) {
              const T x = pick(a, i), lo = pick(b, i), hi = pick(c, i);
              d[i] = x < lo ? lo : (x > hi ? hi : x);
            }
            break;
          }
          case Op::kWhere: {
            const Arg<T> c = arg(in.c);
            // Validity: the condition's, and that of the branch taken.
            dst_all_valid = va == nullptr && vb == nullptr && vc == nullptr;
            if (!dst_all_valid) {
              for (int i = 0; i < n; ++i) {
                const bool cond = pick(a, i) != T(0);
                const std::uint8_t v_branch = cond ? (vb ? vb[i] : 1) : (vc ? vc[i] : 1);
                vd[i] = (va ? va[i] : 1) & v_branch;
              }
            }
            for (int i = 0; i < n; ++i) d[i] = pick(a, i) != T(0) ? pick(b, i) : pick(c, i);
            all_valid_[in.dst] = dst_all_valid ? 1 : 0;
            continue;
          }
          case Op::kIsNodata: {
            if (va == nullptr) {
              std::fill(d, d + n, T(0));
            } else {
              for (int i = 0; i < n; ++i) d[i] = va[i] ? T(0) : T(1);
            }
            all_valid_[in.dst] = 1;
            continue;
          }
        }
        const bool domain = has_domain_limits(in.op);
        if (dst_all_valid && !domain) {
          all_valid_[in.dst] = 1;
          continue;
        }
        // Combine operand validity (and the result's finiteness for domain-limited operations).
        if (domain) {
          for (int i = 0; i < n; ++i) {
            vd[i] = (va ? va[i] : 1) & (vb ? vb[i] : 1) & finite(d[i]);
          }
        } else {
          for (int i = 0; i < n; ++i) vd[i] = (va ? va[i] : 1) & (vb ? vb[i] : 1) & (vc ? vc[i] : 1);
        }
        all_valid_[in.dst] = 0;
      }
      if (result.is_const) {
        T* tmp = reg(0);
        std::fill(tmp, tmp + n, static_cast<T>(result.value));
        // reg(0) may be an input register; it is reloaded for the next chunk.
        store_any<T>(tmp, nullptr, true, n, out, y, x0);
      } else {
        store_any<T>(reg(result.reg), vreg(result.reg), all_valid_[result.reg] != 0, n, out, y, x0);
      }
    }
  }
}

}  // namespace sco::algebra
