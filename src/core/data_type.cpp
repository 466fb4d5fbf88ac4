#include "core/data_type.hpp"

#include <algorithm>

#include <cmath>
#include <limits>

namespace sco::core {

namespace {
struct TypeInfo {
  DataType type;
  const char* name;
  std::size_t size;
  bool integer;
  double min;
  double max;
};
template <typename T>
constexpr TypeInfo info(DataType type, const char* name) {
  if constexpr (std::numeric_limits<T>::is_integer) {
    return {type, name, sizeof(T), true, static_cast<double>(std::numeric_limits<T>::min()),
            static_cast<double>(std::numeric_limits<T>::max())};
  } else {
    return {type, name, sizeof(T), false, -static_cast<double>(std::numeric_limits<T>::max()),
            static_cast<double>(std::numeric_limits<T>::max())};
  }
}
constexpr TypeInfo kTypes[] = {
    info<std::uint8_t>(DataType::kByte, "byte"),     info<std::int8_t>(DataType::kInt8, "int8"),
    info<std::uint16_t>(DataType::kUInt16, "uint16"), info<std::int16_t>(DataType::kInt16, "int16"),
    info<std::uint32_t>(DataType::kUInt32, "uint32"), info<std::int32_t>(DataType::kInt32, "int32"),
    info<float>(DataType::kFloat32, "float32"),       info<double>(DataType::kFloat64, "float64"),
};
const TypeInfo& lookup(DataType type) { return kTypes[static_cast<int>(type)]; }
}  // namespace

std::size_t size_of(DataType type) { return lookup(type).size; }
bool is_integer(DataType type) { return lookup(type).integer; }
const char* type_name(DataType type) { return lookup(type).name; }
double type_min(DataType type) { return lookup(type).min; }
double type_max(DataType type) { return lookup(type).max; }

std::optional<DataType> parse_type(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& t : kTypes) {
    if (lower == t.name) return t.type;
  }
  if (lower == "uint8") return DataType::kByte;
  if (lower == "float") return DataType::kFloat32;
  if (lower == "double") return DataType::kFloat64;
  return std::nullopt;
}

double default_nodata(DataType type) {
  const auto& t = lookup(type);
  if (!t.integer) return std::numeric_limits<double>::quiet_NaN();
  return t.min < 0 ? t.min : t.max;
}

namespace {
template <typename T>
void fill_as(void* data, std::size_t count, double value) {
  std::fill_n(static_cast<T*>(data), count, static_cast<T>(value));
}
}  // namespace

void fill(void* data, std::size_t count, DataType type, double value) {
  switch (type) {
    case DataType::kByte: fill_as<std::uint8_t>(data, count, value); break;
    case DataType::kInt8: fill_as<std::int8_t>(data, count, value); break;
    case DataType::kUInt16: fill_as<std::uint16_t>(data, count, value); break;
    case DataType::kInt16: fill_as<std::int16_t>(data, count, value); break;
    case DataType::kUInt32: fill_as<std::uint32_t>(data, count, value); break;
    case DataType::kInt32: fill_as<std::int32_t>(data, count, value); break;
    case DataType::kFloat32: fill_as<float>(data, count, value); break;
    case DataType::kFloat64: fill_as<double>(data, count, value); break;
  }
}

}  // namespace sco::core
