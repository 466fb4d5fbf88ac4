#pragma once
// SHA-256 digests (FIPS 180-4) through libsodium, as lowercase hex: for provenance (recipes, input
// files) and, later, signed products.
#include <optional>
#include <string>
#include <string_view>

namespace sco::core {

std::string sha256_hex(std::string_view bytes);
// Streams the file in 1 MiB pieces; throws kNotFound / kIo naming the file.
std::string sha256_file(const std::string& path);

}  // namespace sco::core

namespace sco::core {
// Standard base64 (RFC 4648, with padding), e.g. for images inlined in HTML reports.
std::string base64(std::string_view bytes);
// The bytes of standard base64 text; nullopt when it is not base64.
std::optional<std::string> base64_decode(std::string_view text);
// `bytes` random bytes (libsodium's generator) as lowercase hex: request and job ids.
std::string random_hex(std::size_t bytes);
}  // namespace sco::core
