#pragma once
// A 2-D kernel over a raster band (openEO's apply_kernel): each output cell is the factor times the
// sum of the kernel's weights times the cells under it, the kernel centred on the cell (a correlation:
// the weights are not flipped, as the openEO process definition says). Cells beyond the band's edges
// come from the border mode; NaN and infinite inputs count as `replace_invalid`. Free of I/O: rows
// come through an accessor (io/focal.hpp reads them from files in strips).
#include <functional>
#include <string>
#include <vector>

namespace sco::algebra {

enum class BorderMode { kConstant, kReplicate, kReflect, kReflectPixel, kWrap };

struct Kernel2D {
  int rows = 0, cols = 0;       // odd
  std::vector<double> weights;  // rows x cols, row-major; row 0 is the top (north), column 0 the west
  double factor = 1.0;
  BorderMode border = BorderMode::kConstant;
  double border_value = 0.0;  // kConstant's n: nnn|abcdefgh|nnn
  double replace_invalid = 0.0;
};

// "replicate" (aaa|abcdefgh|hhh), "reflect" (cba|abcdefgh|hgf), "reflect_pixel" (dcb|abcdefgh|gfe),
// "wrap" (fgh|abcdefgh|abc); throws naming the text otherwise.
BorderMode parse_border_mode(const std::string& text);

// Index i of an axis of n cells (i may lie outside [0, n)) mapped inside as `mode` says; -1 for the
// constant border.
long border_index(long i, long n, BorderMode mode);

// Output rows [row0, row0 + out_rows) of a band `width` x `height`, into out (out_rows x width).
// row(r) returns band row r (0 <= r < height), `width` floats; it is asked only for rows the kernel
// needs (the output rows and their border_index'ed neighbours).
void convolve_rows(const Kernel2D& k, long width, long height, long row0, long out_rows, const std::function<const float*(long)>& row,
                   float* out);

}  // namespace sco::algebra
