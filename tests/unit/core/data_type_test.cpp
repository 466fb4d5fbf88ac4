#include <gtest/gtest.h>

#include <cmath>

#include "core/data_type.hpp"

using namespace sco::core;

TEST(DataType, NamesRoundTrip) {
  for (auto t : {DataType::kByte, DataType::kUInt16, DataType::kInt16, DataType::kUInt32, DataType::kInt32,
                 DataType::kFloat32, DataType::kFloat64}) {
    EXPECT_EQ(parse_type(type_name(t)), t);
  }
  EXPECT_EQ(parse_type("Float32"), DataType::kFloat32);
  EXPECT_EQ(parse_type("uint8"), DataType::kByte);
  EXPECT_FALSE(parse_type("complex64").has_value());
}

TEST(DataType, SizesAndDefaults) {
  EXPECT_EQ(size_of(DataType::kUInt16), 2u);
  EXPECT_EQ(size_of(DataType::kFloat64), 8u);
  EXPECT_TRUE(std::isnan(default_nodata(DataType::kFloat32)));
  EXPECT_EQ(default_nodata(DataType::kByte), 255.0);
  EXPECT_EQ(default_nodata(DataType::kInt16), -32768.0);
  EXPECT_EQ(type_max(DataType::kUInt16), 65535.0);
}
