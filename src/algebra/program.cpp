#include "algebra/program.hpp"

#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace sco::algebra {

using core::ErrorCode;

double apply_scalar(Op op, double a, double b, double c) {
  // Constants follow the evaluator's nodata rules: NaN is nodata and spreads through comparisons,
  // logic, min/max and clamp too.
  const double nan = std::nan("");
  switch (op) {
    case Op::kNot: case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: case Op::kEq: case Op::kNe:
    case Op::kAnd: case Op::kOr: case Op::kMin: case Op::kMax:
      if (std::isnan(a) || std::isnan(b)) return nan;
      break;
    case Op::kClamp:
      if (std::isnan(b) || std::isnan(c)) return nan;
      break;
    case Op::kWhere:
      if (std::isnan(a)) return nan;
      break;
    case Op::kIsNodata:
      return std::isnan(a) ? 1.0 : 0.0;
    default:
      break;
  }
  switch (op) {
    case Op::kNeg: return -a;
    case Op::kNot: return a == 0.0 ? 1.0 : 0.0;
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv: return a / b;
    case Op::kPow: return std::pow(a, b);
    case Op::kLt: return a < b ? 1.0 : 0.0;
    case Op::kLe: return a <= b ? 1.0 : 0.0;
    case Op::kGt: return a > b ? 1.0 : 0.0;
    case Op::kGe: return a >= b ? 1.0 : 0.0;
    case Op::kEq: return a == b ? 1.0 : 0.0;
    case Op::kNe: return a != b ? 1.0 : 0.0;
    case Op::kAnd: return (a != 0.0 && b != 0.0) ? 1.0 : 0.0;
    case Op::kOr: return (a != 0.0 || b != 0.0) ? 1.0 : 0.0;
    case Op::kWhere: return a != 0.0 ? b : c;
    case Op::kMin: return b < a ? b : a;
    case Op::kMax: return b > a ? b : a;
    case Op::kClamp: return a < b ? b : (a > c ? c : a);
    case Op::kAbs: return std::fabs(a);
    case Op::kSqrt: return std::sqrt(a);
    case Op::kLog: return std::log(a);
    case Op::kLog10: return std::log10(a);
    case Op::kExp: return std::exp(a);
    case Op::kFloor: return std::floor(a);
    case Op::kCeil: return std::ceil(a);
    case Op::kRound: return std::round(a);
    case Op::kIsNodata: return std::isnan(a) ? 1.0 : 0.0;
    case Op::kSin: return std::sin(a);
    case Op::kCos: return std::cos(a);
    case Op::kTan: return std::tan(a);
    case Op::kAsin: return std::asin(a);
    case Op::kAcos: return std::acos(a);
    case Op::kAtan: return std::atan(a);
    case Op::kSign: return std::isnan(a) ? a : (a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0));
    case Op::kMod: return a - b * std::floor(a / b);
  }
  return 0.0;
}

bool has_domain_limits(Op op) {
  switch (op) {
    case Op::kDiv: case Op::kPow: case Op::kSqrt: case Op::kLog: case Op::kLog10: case Op::kExp:
    case Op::kTan: case Op::kAsin: case Op::kAcos: case Op::kMod:
      return true;
    default:
      return false;
  }
}

namespace {

class Compiler {
 public:
  explicit Compiler(const std::vector<std::string>& names) : used_(names.size(), false), names_(names) {
    next_reg_ = static_cast<int>(names.size());
  }

  Operand compile(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kNumber: return Operand{true, -1, e.number};
      case Expr::Kind::kInput: {
        for (std::size_t i = 0; i < names_.size(); ++i) {
          if (names_[i] == e.name) {
            used_[i] = true;
            return Operand{false, static_cast<int>(i), 0.0};
          }
        }
        std::string known;
        for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
        core::fail(ErrorCode::kInvalidInput, "invalid expression at column {}: unknown input '{}' (inputs: {})",
                   e.column, e.name, known.empty() ? "none" : known);
      }
      case Expr::Kind::kUnary: return emit(e.op, {compile(e.args[0])});
      case Expr::Kind::kBinary: return emit(e.op, {compile(e.args[0]), compile(e.args[1])});
      case Expr::Kind::kCall: {
        if (e.op == Op::kMin || e.op == Op::kMax) {
          Operand acc = compile(e.args[0]);
          for (std::size_t i = 1; i < e.args.size(); ++i) acc = emit(e.op, {acc, compile(e.args[i])});
          return acc;
        }
        std::vector<Operand> ops;
        for (const auto& a : e.args) ops.push_back(compile(a));
        return emit(e.op, ops);
      }
    }
    core::fail(ErrorCode::kInternal, "unhandled expression node");
  }

  std::vector<Instruction> instructions;
  std::vector<bool> used_;
  int max_reg_ = 0;

 private:
  Operand emit(Op op, std::vector<Operand> ops) {
    bool all_const = true;
    for (const auto& o : ops) all_const = all_const && o.is_const;
    if (all_const) {
      double v = apply_scalar(op, ops[0].value, ops.size() > 1 ? ops[1].value : 0.0,
                              ops.size() > 2 ? ops[2].value : 0.0);
      if (has_domain_limits(op) && !std::isfinite(v)) v = std::nan("");
      return Operand{true, -1, v};
    }
    if (op == Op::kWhere && ops[0].is_const) {
      if (std::isnan(ops[0].value)) return Operand{true, -1, std::nan("")};
      return ops[0].value != 0.0 ? ops[1] : ops[2];
    }
    // Registers of temporaries are released as soon as they are consumed, so a long expression
    // needs about as many registers as its depth.
    for (const auto& o : ops) release(o);
    Instruction in{op, acquire(), {}, {}, {}};
    in.a = ops[0];
    if (ops.size() > 1) in.b = ops[1];
    if (ops.size() > 2) in.c = ops[2];
    instructions.push_back(in);
    return Operand{false, in.dst, 0.0};
  }

  int acquire() {
    int r;
    if (!free_.empty()) {
      r = free_.back();
      free_.pop_back();
    } else {
      r = next_reg_++;
    }
    max_reg_ = std::max(max_reg_, r + 1);
    return r;
  }
  void release(const Operand& o) {
    if (!o.is_const && o.reg >= static_cast<int>(names_.size())) {
      for (int f : free_) {
        if (f == o.reg) return;
      }
      free_.push_back(o.reg);
    }
  }

  const std::vector<std::string>& names_;
  std::vector<int> free_;
  int next_reg_;
};

}  // namespace

Program Program::compile(const Expr& expr, const std::vector<std::string>& input_names) {
  for (std::size_t i = 0; i < input_names.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (input_names[i] == input_names[j]) {
        core::fail(ErrorCode::kInvalidInput, "input name '{}' is given twice", input_names[i]);
      }
    }
  }
  Compiler c(input_names);
  Program p;
  p.result_ = c.compile(expr);
  p.instructions_ = std::move(c.instructions);
  p.input_used_ = c.used_;
  p.register_count_ = std::max(c.max_reg_, static_cast<int>(input_names.size()));
  return p;
}

}  // namespace sco::algebra
