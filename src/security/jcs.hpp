#pragma once
// The JSON Canonicalization Scheme (RFC 8785): the one byte sequence a JSON value signs as. Object
// members sorted by their names' UTF-16 code units, no whitespace, strings escaped as ECMAScript's
// JSON.stringify does, numbers in ECMAScript's shortest round-trip form (Number.prototype.toString).
#include <string>

#include <nlohmann/json.hpp>

namespace sco::security {

std::string canonical_json(const nlohmann::json& value);
// One number as RFC 8785 writes it (throws for NaN and infinities, which JSON cannot hold).
std::string canonical_number(double v);

// A string member of a JSON object, or `fallback` when the value is not an object or the member is
// absent or not a string: what arrives from partners may be anything, and must not throw.
std::string string_member(const nlohmann::json& object, const char* key, const std::string& fallback = "");

}  // namespace sco::security
