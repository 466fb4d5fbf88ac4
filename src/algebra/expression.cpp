#include "algebra/expression.hpp"

#include <cctype>
#include <cstdint>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace sco::algebra {

using core::ErrorCode;

const char* op_name(Op op) {
  switch (op) {
    case Op::kNeg: return "-";
    case Op::kNot: return "not";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kPow: return "^";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    case Op::kWhere: return "where";
    case Op::kMin: return "min";
    case Op::kMax: return "max";
    case Op::kClamp: return "clamp";
    case Op::kAbs: return "abs";
    case Op::kSqrt: return "sqrt";
    case Op::kLog: return "log";
    case Op::kLog10: return "log10";
    case Op::kExp: return "exp";
    case Op::kFloor: return "floor";
    case Op::kCeil: return "ceil";
    case Op::kRound: return "round";
    case Op::kIsNodata: return "isnodata";
    case Op::kSin: return "sin";
    case Op::kCos: return "cos";
    case Op::kTan: return "tan";
    case Op::kAsin: return "asin";
    case Op::kAcos: return "acos";
    case Op::kAtan: return "atan";
    case Op::kSign: return "sign";
    case Op::kMod: return "mod";
  }
  return "?";
}

const std::vector<FunctionInfo>& functions() {
  static const std::vector<FunctionInfo> table = {
      {"where", Op::kWhere, 3, 3, "where(cond, a, b): a where cond is non-zero, else b"},
      {"min", Op::kMin, 2, -1, "min(a, b, ...): smallest argument"},
      {"max", Op::kMax, 2, -1, "max(a, b, ...): largest argument"},
      {"clamp", Op::kClamp, 3, 3, "clamp(x, lo, hi): x limited to [lo, hi]"},
      {"abs", Op::kAbs, 1, 1, "abs(x): absolute value"},
      {"sqrt", Op::kSqrt, 1, 1, "sqrt(x): square root; nodata for x < 0"},
      {"log", Op::kLog, 1, 1, "log(x): natural logarithm; nodata for x <= 0"},
      {"log10", Op::kLog10, 1, 1, "log10(x): base-10 logarithm; nodata for x <= 0"},
      {"exp", Op::kExp, 1, 1, "exp(x): e to the power x"},
      {"pow", Op::kPow, 2, 2, "pow(x, y): x to the power y (also x ^ y)"},
      {"floor", Op::kFloor, 1, 1, "floor(x): largest integer <= x"},
      {"ceil", Op::kCeil, 1, 1, "ceil(x): smallest integer >= x"},
      {"round", Op::kRound, 1, 1, "round(x): nearest integer, halves away from zero"},
      {"isnodata", Op::kIsNodata, 1, 1, "isnodata(x): 1 where x is nodata, else 0 (always valid)"},
      {"sin", Op::kSin, 1, 1, "sin(x): sine of x radians"},
      {"cos", Op::kCos, 1, 1, "cos(x): cosine of x radians"},
      {"tan", Op::kTan, 1, 1, "tan(x): tangent of x radians"},
      {"asin", Op::kAsin, 1, 1, "asin(x): arc sine in radians; nodata outside [-1, 1]"},
      {"acos", Op::kAcos, 1, 1, "acos(x): arc cosine in radians; nodata outside [-1, 1]"},
      {"atan", Op::kAtan, 1, 1, "atan(x): arc tangent in radians"},
      {"sign", Op::kSign, 1, 1, "sign(x): -1, 0 or 1"},
      {"mod", Op::kMod, 2, 2, "mod(x, y): x - y * floor(x / y), the sign of y; nodata for y = 0"},
  };
  return table;
}

namespace {

enum class Tok { kNumber, kName, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind;
  std::string text;
  double number = 0.0;
  int column = 1;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) { advance(); }

  Expr parse() {
    if (tok_.kind == Tok::kEnd) error(tok_.column, "the expression is empty");
    Expr e = parse_or();
    if (tok_.kind != Tok::kEnd) error(tok_.column, fmt::format("unexpected '{}'", tok_.text));
    return e;
  }

 private:
  [[noreturn]] void error(int column, const std::string& what) const {
    core::fail(ErrorCode::kInvalidInput, "invalid expression at column {}: {} in \"{}\"", column, what,
               src_);
  }

  void advance() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
    tok_ = Token{Tok::kEnd, "end of expression", 0.0, static_cast<int>(pos_) + 1};
    if (pos_ >= src_.size()) return;
    const char c = src_[pos_];
    const std::size_t start = pos_;
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && pos_ + 1 < src_.size() &&
                                                        std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      // Numbers: digits, optional fraction, optional exponent.
      while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      if (pos_ < src_.size() && src_[pos_] == '.') {
        ++pos_;
        while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      }
      if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
        std::size_t p = pos_ + 1;
        if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
        if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
          pos_ = p;
          while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
        } else {
          error(static_cast<int>(pos_) + 1, "malformed exponent in number");
        }
      }
      tok_.kind = Tok::kNumber;
      tok_.text = std::string(src_.substr(start, pos_ - start));
      tok_.number = std::strtod(tok_.text.c_str(), nullptr);
      return;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
        ++pos_;
      }
      tok_.kind = Tok::kName;
      tok_.text = std::string(src_.substr(start, pos_ - start));
      return;
    }
    static const char* const kTwo[] = {"<=", ">=", "==", "!="};
    for (const char* op : kTwo) {
      if (src_.substr(pos_, 2) == op) {
        pos_ += 2;
        tok_.kind = Tok::kOp;
        tok_.text.assign(op, 2);  // (assign with a length: operator= trips GCC 12 bug 105651)
        return;
      }
    }
    ++pos_;
    tok_.text = std::string(1, c);
    switch (c) {
      case '(': tok_.kind = Tok::kLParen; return;
      case ')': tok_.kind = Tok::kRParen; return;
      case ',': tok_.kind = Tok::kComma; return;
      case '+': case '-': case '*': case '/': case '^': case '<': case '>':
        tok_.kind = Tok::kOp;
        return;
      default:
        unexpected_character(start);
    }
  }

  // Names the character at `at` whole, with its code point, even when it takes several bytes of
  // UTF-8 (a '×' or a non-breaking space pasted from a document), at its column in characters.
  [[noreturn]] void unexpected_character(std::size_t at) const {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(src_[i]); };
    int column = 1;
    for (std::size_t i = 0; i < at; ++i) column += (byte(i) & 0xC0) != 0x80;
    const unsigned char lead = byte(at);
    if (lead < 0x80) error(column, fmt::format("unexpected character '{}'", static_cast<char>(lead)));
    const std::size_t len = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 0;
    std::uint32_t cp = len == 2 ? lead & 0x1F : len == 3 ? lead & 0x0F : lead & 0x07;
    bool valid = len > 0 && at + len <= src_.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (byte(at + k) & 0xC0) == 0x80;
      cp = (cp << 6) | (byte(at + k) & 0x3F);
    }
    if (!valid) error(column, fmt::format("unexpected byte 0x{:02X} (the expression is not UTF-8 text)", lead));
    error(column, fmt::format("unexpected character '{}' (U+{:04X})", src_.substr(at, len), cp));
  }

  bool is_op(const char* text) const { return tok_.kind == Tok::kOp && tok_.text == text; }
  bool is_keyword(const char* word) const { return tok_.kind == Tok::kName && tok_.text == word; }

  static Expr binary(Op op, Expr lhs, Expr rhs, int column) {
    Expr e;
    e.kind = Expr::Kind::kBinary;
    e.op = op;
    e.column = column;
    e.args.push_back(std::move(lhs));
    e.args.push_back(std::move(rhs));
    return e;
  }

  Expr parse_or() {
    Expr lhs = parse_and();
    while (is_keyword("or")) {
      const int col = tok_.column;
      advance();
      lhs = binary(Op::kOr, std::move(lhs), parse_and(), col);
    }
    return lhs;
  }

  Expr parse_and() {
    Expr lhs = parse_not();
    while (is_keyword("and")) {
      const int col = tok_.column;
      advance();
      lhs = binary(Op::kAnd, std::move(lhs), parse_not(), col);
    }
    return lhs;
  }

  // Nesting (parentheses, function arguments, chains of unary operators) is bounded, so that a hostile
  // expression fails with a message instead of overflowing the stack.
  static constexpr int kMaxDepth = 200;
  struct Nesting {
    Parser& p;
    explicit Nesting(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.error(p.tok_.column, fmt::format("the expression nests deeper than {} levels", kMaxDepth));
    }
    ~Nesting() { --p.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
  };

  Expr parse_not() {
    const Nesting guard(*this);
    if (is_keyword("not")) {
      const int col = tok_.column;
      advance();
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.op = Op::kNot;
      e.column = col;
      e.args.push_back(parse_not());
      return e;
    }
    return parse_cmp();
  }

  Expr parse_cmp() {
    Expr lhs = parse_sum();
    for (;;) {
      Op op;
      if (is_op("<")) op = Op::kLt;
      else if (is_op("<=")) op = Op::kLe;
      else if (is_op(">")) op = Op::kGt;
      else if (is_op(">=")) op = Op::kGe;
      else if (is_op("==")) op = Op::kEq;
      else if (is_op("!=")) op = Op::kNe;
      else return lhs;
      const int col = tok_.column;
      advance();
      lhs = binary(op, std::move(lhs), parse_sum(), col);
    }
  }

  Expr parse_sum() {
    Expr lhs = parse_prod();
    while (is_op("+") || is_op("-")) {
      const Op op = tok_.text == "+" ? Op::kAdd : Op::kSub;
      const int col = tok_.column;
      advance();
      lhs = binary(op, std::move(lhs), parse_prod(), col);
    }
    return lhs;
  }

  Expr parse_prod() {
    Expr lhs = parse_unary();
    while (is_op("*") || is_op("/")) {
      const Op op = tok_.text == "*" ? Op::kMul : Op::kDiv;
      const int col = tok_.column;
      advance();
      lhs = binary(op, std::move(lhs), parse_unary(), col);
    }
    return lhs;
  }

  Expr parse_unary() {
    const Nesting guard(*this);
    if (is_op("-") || is_op("+")) {
      const bool negate = tok_.text == "-";
      const int col = tok_.column;
      advance();
      Expr operand = parse_unary();
      if (!negate) return operand;
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.op = Op::kNeg;
      e.column = col;
      e.args.push_back(std::move(operand));
      return e;
    }
    return parse_power();
  }

  Expr parse_power() {
    Expr base = parse_atom();
    if (is_op("^")) {
      const int col = tok_.column;
      advance();
      return binary(Op::kPow, std::move(base), parse_unary(), col);
    }
    return base;
  }

  Expr parse_atom() {
    const Token t = tok_;
    switch (t.kind) {
      case Tok::kNumber: {
        advance();
        Expr e;
        e.kind = Expr::Kind::kNumber;
        e.number = t.number;
        e.column = t.column;
        return e;
      }
      case Tok::kLParen: {
        advance();
        Expr inner = parse_or();
        if (tok_.kind != Tok::kRParen) {
          error(tok_.column, fmt::format("expected ')' to close the '(' at column {}, found '{}'", t.column,
                                         tok_.text));
        }
        advance();
        return inner;
      }
      case Tok::kName: {
        if (t.text == "and" || t.text == "or" || t.text == "not") {
          error(t.column, fmt::format("'{}' needs an operand before it", t.text));
        }
        advance();
        if (tok_.kind != Tok::kLParen) {
          for (const auto& f : functions()) {
            if (t.text == f.name) error(t.column, fmt::format("function '{}' needs arguments: {}", t.text, f.summary));
          }
          Expr e;
          e.kind = Expr::Kind::kInput;
          e.name = t.text;
          e.column = t.column;
          return e;
        }
        const FunctionInfo* fn = nullptr;
        for (const auto& f : functions()) {
          if (t.text == f.name) fn = &f;
        }
        if (fn == nullptr) error(t.column, fmt::format("unknown function '{}'", t.text));
        const int lparen = tok_.column;
        advance();
        Expr call;
        call.kind = Expr::Kind::kCall;
        call.name = t.text;
        call.op = fn->op;
        call.column = t.column;
        if (tok_.kind != Tok::kRParen) {
          call.args.push_back(parse_or());
          while (tok_.kind == Tok::kComma) {
            advance();
            call.args.push_back(parse_or());
          }
        }
        if (tok_.kind != Tok::kRParen) {
          error(tok_.column, fmt::format("expected ',' or ')' in the call of '{}' opened at column {}, found '{}'",
                                         t.text, lparen, tok_.text));
        }
        advance();
        const int n = static_cast<int>(call.args.size());
        if (n < fn->min_args || (fn->max_args >= 0 && n > fn->max_args)) {
          error(t.column, fmt::format("'{}' takes {} argument(s), got {}: {}", t.text,
                                      fn->max_args < 0 ? fmt::format("at least {}", fn->min_args)
                                      : fn->min_args == fn->max_args ? std::to_string(fn->min_args)
                                      : fmt::format("{} to {}", fn->min_args, fn->max_args),
                                      n, fn->summary));
        }
        return call;
      }
      case Tok::kEnd:
        error(t.column, "the expression ends where an operand was expected");
      default:
        error(t.column, fmt::format("unexpected '{}' where an operand was expected", t.text));
    }
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  Token tok_;
  int depth_ = 0;
};

void collect_inputs(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == Expr::Kind::kInput) {
    for (const auto& n : out) {
      if (n == e.name) return;
    }
    out.push_back(e.name);
  }
  for (const auto& a : e.args) collect_inputs(a, out);
}

}  // namespace

Expr parse_expression(std::string_view source) { return Parser(source).parse(); }

std::vector<std::string> referenced_inputs(const Expr& expr) {
  std::vector<std::string> out;
  collect_inputs(expr, out);
  return out;
}

std::string to_string(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kNumber: return fmt::format("{}", e.number);
    case Expr::Kind::kInput: return e.name;
    case Expr::Kind::kUnary:
      return e.op == Op::kNot ? fmt::format("(not {})", to_string(e.args[0]))
                              : fmt::format("(-{})", to_string(e.args[0]));
    case Expr::Kind::kBinary:
      return fmt::format("({} {} {})", to_string(e.args[0]), op_name(e.op), to_string(e.args[1]));
    case Expr::Kind::kCall: {
      std::string s = e.name + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i) s += ", ";
        s += to_string(e.args[i]);
      }
      return s + ")";
    }
  }
  return "?";
}

}  // namespace sco::algebra
