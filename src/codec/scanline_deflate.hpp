#pragma once
// A DEFLATE (RFC 1951) encoder made for PNG scanlines of map tiles, in a zlib (RFC 1950) wrapper.
//
// A tile's PNG encoding was the largest part of its cost (a third of a rendered tile with
// libdeflate's fastest level). Tiles repeat themselves in two ways: along a row (runs of one
// colour) and down a column (the row above, one stride back). This encoder looks for exactly these
// two matches at each byte (distance 1 and distance `stride`), extends them eight bytes at a time,
// and codes the tokens in one block with Huffman codes built for the tile (dynamic block, RFC 1951
// 3.2.7; length-limited canonical codes, 3.2.2). Input that does not compress goes out as stored
// blocks. No I/O; checked by inflating with zlib in the tests.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sco::codec {

// Appends to `out` the zlib stream of `raw[0, n)`, whose rows are `stride` bytes long (PNG filtered
// scanlines: the filter byte and the row). Returns the number of bytes appended.
std::size_t zlib_compress_scanlines(const std::uint8_t* raw, std::size_t n, std::size_t stride, std::vector<std::uint8_t>& out);

}  // namespace sco::codec
