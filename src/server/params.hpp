#pragma once
// The parameters several APIs share, parsed one way everywhere (STAC search, OGC API Features items,
// tiles): a bounding box with its ranges checked, a datetime instant or interval, integers in a
// range (limit, offset), lists of numbers and of band numbers. Every error is a core::Error
// (kInvalidInput) whose message starts with the parameter's name: a 400 InvalidParameterValue
// through error_response.
#include <string>
#include <vector>

#include "catalog/store.hpp"

namespace sco::server::params {

// Comma-separated parts, empty ones dropped.
std::vector<std::string> split_list(const std::string& text);
double number(const std::string& text, const std::string& field);
// Between min_count and max_count numbers, comma-separated.
std::vector<double> numbers(const std::string& text, const std::string& field, std::size_t min_count, std::size_t max_count);
// west,south,east,north (or the 6 numbers of a 3D box) in WGS 84: south <= north, west <= east (no
// box across the antimeridian), within -180,-90,180,90.
catalog::BBox bbox(const std::vector<double>& values, const std::string& field);
catalog::BBox bbox(const std::string& text, const std::string& field);
// An RFC 3339 instant or date, or an interval "A/B" with ".." or nothing for an open end; dates
// cover their whole day. Bounds in UTC ("YYYY-MM-DDTHH:MM:SSZ"), empty when open.
struct Interval {
  std::string start, end;
};
Interval datetime(const std::string& text, const std::string& field);
long integer(const std::string& text, long lo, long hi, const std::string& field);
// Band numbers 1..65535, comma-separated.
std::vector<int> bands(const std::string& text, const std::string& field);

}  // namespace sco::server::params
