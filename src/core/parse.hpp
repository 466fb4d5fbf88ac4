#pragma once
// Numbers and dates typed by users (command-line values, query parameters, recipe fields), parsed
// with their range checked: a value that does not fit is an error naming it (exit 2 or HTTP 400),
// never a wrapped, clamped or silently shifted value.
#include <cstdint>
#include <string>
#include <string_view>

namespace sco::core {

// A whole number in [min, max], decimal digits with an optional leading '-' (no spaces, no '+', no
// fraction). Throws kInvalidInput: "WHAT: 'TEXT' is not a whole number from MIN to MAX".
std::int64_t parse_integer(std::string_view text, std::int64_t min, std::int64_t max, std::string_view what);

// A band number (1 to 65535, GDAL's own limit on bands being far below the int range).
inline int parse_band_number(std::string_view text, std::string_view what) {
  return static_cast<int>(parse_integer(text, 1, 65535, what));
}

// A finite decimal number (no nan, no inf). Throws kInvalidInput naming WHAT.
double parse_finite(std::string_view text, std::string_view what);

// A calendar date and time of RFC 3339 (YYYY-MM-DD, or with THH:MM:SS[.f] and Z or +hh:mm),
// checked field by field against the Gregorian calendar (30 February, month 13, hour 99 are errors;
// years are four digits, 0001-9999). Returns it normalised to UTC as YYYY-MM-DDTHH:MM:SS[.f]Z.
// Throws kInvalidInput naming WHAT and what is wrong.
std::string parse_rfc3339(std::string_view text, std::string_view what);

}  // namespace sco::core
