#pragma once
// The band-math language: parsed once into a tree, then compiled into a Program (program.hpp).
//
//   expr   := or
//   or     := and ('or' and)*
//   and    := not ('and' not)*
//   not    := 'not' not | cmp
//   cmp    := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)*
//   sum    := prod (('+' | '-') prod)*
//   prod   := unary (('*' | '/') unary)*
//   unary  := ('-' | '+') unary | power
//   power  := atom ('^' unary)?          right-associative, binds tighter than unary minus
//   atom   := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sco::algebra {

enum class Op {
  kNeg, kNot,
  kAdd, kSub, kMul, kDiv, kPow,
  kLt, kLe, kGt, kGe, kEq, kNe, kAnd, kOr,
  kWhere, kMin, kMax, kClamp,
  kAbs, kSqrt, kLog, kLog10, kExp, kFloor, kCeil, kRound,
  kIsNodata,
  kSin, kCos, kTan, kAsin, kAcos, kAtan, kSign, kMod,
};

const char* op_name(Op op);

struct Expr {
  enum class Kind { kNumber, kInput, kUnary, kBinary, kCall };
  Kind kind = Kind::kNumber;
  double number = 0.0;    // kNumber
  std::string name;       // kInput: the input's name; kCall: the function's name
  Op op = Op::kAdd;       // kUnary, kBinary, kCall
  std::vector<Expr> args;
  int column = 1;         // 1-based position in the source, for error messages
};

// One entry of the function table; it feeds the parser and the help text.
struct FunctionInfo {
  const char* name;
  Op op;
  int min_args;
  int max_args;  // -1: any number >= min_args
  const char* summary;
};
const std::vector<FunctionInfo>& functions();

// Parses `source`; throws core::Error(kInvalidInput) whose message gives the 1-based column.
Expr parse_expression(std::string_view source);

// The distinct input names the expression refers to, in order of first appearance.
std::vector<std::string> referenced_inputs(const Expr& expr);

// A canonical, fully parenthesised rendering (used in tests and in output metadata).
std::string to_string(const Expr& expr);

}  // namespace sco::algebra
