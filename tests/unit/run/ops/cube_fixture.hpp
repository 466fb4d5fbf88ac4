#pragma once
// A cube of three yearly steps (1 January 2000, 2001, 2002; decimal years 2000.0, 2001.0, 2002.0):
//   2000: 1 2 3 4 / 5 6 7 8     2001: 3 everywhere     2002: 5 6 7 8 / 9 10 11 12
#include "run/op_fixture.hpp"

namespace sco::test {

inline const std::vector<float> kY2000{1, 2, 3, 4, 5, 6, 7, 8}, kY2001(8, 3.0f), kY2002{5, 6, 7, 8, 9, 10, 11, 12};

inline run::RunInput yearly_cube(OpFixture& f, const std::string& name = "x") {
  return OpFixture::dated(name, {{f.raster(name + "_2000.tif", {kY2000}), 2000},
                                 {f.raster(name + "_2001.tif", {kY2001}), 2001},
                                 {f.raster(name + "_2002.tif", {kY2002}), 2002}});
}

inline const char* kCubeInput = R"({"x": {"kind": "cube"}})";

}  // namespace sco::test
