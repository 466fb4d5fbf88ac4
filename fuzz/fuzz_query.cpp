// Query strings as a client sends them, percent-decoded into parameters, on the routes that read
// them: item search, a collection's items, TileJSON and a tile (bidx, expression, rescale, colormap,
// resampling are parsed, compiled and rendered). The first byte picks the route. Properties: no
// crash, no sanitizer report, never a 500.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz_support.hpp"
#include "server/stac_api.hpp"
#include "server/tiles_api.hpp"

namespace {

std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int route = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  sco::server::ApiRequest req;
  req.base_url = "http://fuzz";
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t amp = std::min(text.find('&', start), text.size());
    const std::string pair = text.substr(start, amp - start);
    const std::size_t eq = pair.find('=');
    if (!pair.empty()) req.query[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
    start = amp + 1;
  }
  static sco::server::StacApi stac(sco::fuzz::fuzz_store());
  static sco::server::TilesApi tiles(sco::fuzz::fuzz_store(), 1 << 20);
  sco::server::ApiResponse r;
  switch (route) {
    case 0:
      req.path = "/stac/search";
      r = stac.handle(req);
      break;
    case 1:
      req.path = "/stac/collections/c/items";
      r = stac.handle(req);
      break;
    case 2:
      req.path = "/tiles/c/i/data/tilejson.json";
      r = tiles.handle(req, req.path + "?" + text);
      break;
    default:
      req.path = "/tiles/c/i/data/14/6605/8556.png";  // over the raster
      r = tiles.handle(req, req.path + "?" + text);
      break;
  }
  if (r.status >= 500) std::abort();
  return 0;
}
