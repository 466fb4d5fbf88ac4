// What partners send through TAXII: STIX patterns and objects as arbitrary bytes. The first byte picks
// the target: a pattern (parse_stix_pattern), or a JSON object through check_object, verify_object
// and, when the pattern reads, the deny rules of an accepted indicator. Properties: no crash, no
// sanitizer report; errors are core::Error only.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "intel/exchange.hpp"
#include "intel/pattern.hpp"
#include "intel/stix.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const auto p = sco::intel::parse_stix_pattern(text);
      for (const auto& r : p.addresses) (void)r.text();
      return 0;
    }
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return 0;
    (void)sco::intel::check_object(j);
    (void)sco::intel::verify_object(j, {});
    (void)sco::intel::is_predefined(j);
    (void)sco::intel::object_version(j);
  } catch (const sco::core::Error&) {
  }
  return 0;
}
