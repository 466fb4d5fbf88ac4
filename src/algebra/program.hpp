#pragma once
// A band-math expression compiled into a flat list of instructions over registers. Immutable after
// compile(): many threads evaluate one Program, each with its own BlockEvaluator (per-run state).
#include <string>
#include <vector>

#include "algebra/expression.hpp"

namespace sco::algebra {

struct Operand {
  bool is_const = true;
  int reg = -1;        // when !is_const
  double value = 0.0;  // when is_const
};

struct Instruction {
  Op op;
  int dst;
  Operand a, b, c;  // b and c unused by unary ops; c used by where() and clamp()
};

class Program {
 public:
  // Compiles `expr` against the named input slots: input i is loaded into register i. Names the
  // expression uses that are not slots are an error naming the column. Constant sub-expressions
  // are folded here, so that `2 * 0.5 * a` costs one multiplication per pixel.
  static Program compile(const Expr& expr, const std::vector<std::string>& input_names);

  const std::vector<Instruction>& instructions() const { return instructions_; }
  const Operand& result() const { return result_; }
  int register_count() const { return register_count_; }
  int input_count() const { return static_cast<int>(input_used_.size()); }
  bool input_used(int slot) const { return input_used_[slot]; }

 private:
  std::vector<Instruction> instructions_;
  std::vector<bool> input_used_;
  Operand result_;
  int register_count_ = 0;
};

// The scalar meaning of each operation, shared by constant folding and the vector loops so that
// both give the same answer. Logical values are 1 and 0; any non-zero operand is true.
double apply_scalar(Op op, double a, double b = 0.0, double c = 0.0);
// Operations whose result may be outside their domain (division by zero, sqrt of a negative...):
// their non-finite results are nodata.
bool has_domain_limits(Op op);

}  // namespace sco::algebra
