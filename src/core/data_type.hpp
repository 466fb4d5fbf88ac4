#pragma once
// Pixel data types sco reads and writes, independent of GDAL, with the conversions the kernels need.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sco::core {

enum class DataType { kByte, kInt8, kUInt16, kInt16, kUInt32, kInt32, kFloat32, kFloat64 };

std::size_t size_of(DataType type);
bool is_integer(DataType type);
const char* type_name(DataType type);  // "byte", "uint16", "float32", ...
std::optional<DataType> parse_type(std::string_view name);
// The nodata value sco writes by default: NaN for floats, the type's maximum (unsigned) or minimum
// (signed) for integers, so that it is least likely to collide with a computed value.
double default_nodata(DataType type);
// Lowest and highest value the type can hold.
double type_min(DataType type);
double type_max(DataType type);
// Sets `count` values of `type` at `data` to `value` (converted to the type).
void fill(void* data, std::size_t count, DataType type, double value);

}  // namespace sco::core
