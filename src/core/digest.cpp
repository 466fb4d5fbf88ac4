#include "core/digest.hpp"

#include <cstdio>
#include <memory>
#include <vector>

#include <sodium.h>

#include "core/error.hpp"

namespace sco::core {

namespace {
void ensure_sodium() {
  static const int ok = sodium_init();
  if (ok < 0) fail(ErrorCode::kInternal, "libsodium could not be initialised");
}

std::string to_hex(const unsigned char* digest) {
  std::string hex(crypto_hash_sha256_BYTES * 2, '0');
  sodium_bin2hex(hex.data(), hex.size() + 1, digest, crypto_hash_sha256_BYTES);
  return hex;
}
}  // namespace

std::string sha256_hex(std::string_view bytes) {
  ensure_sodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return to_hex(digest);
}

std::string sha256_file(const std::string& path) {
  ensure_sodium();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail(ErrorCode::kNotFound, "cannot open '{}' to compute its checksum", path);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<unsigned char> buffer(1 << 20);
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f.get())) > 0) crypto_hash_sha256_update(&state, buffer.data(), n);
  if (std::ferror(f.get())) fail(ErrorCode::kIo, "error reading '{}' to compute its checksum", path);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return to_hex(digest);
}


std::optional<std::string> base64_decode(std::string_view text) {
  ensure_sodium();
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(n);
  return out;
}

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}
}  // namespace sco::core

namespace sco::core {
std::string base64(std::string_view bytes) {
  ensure_sodium();
  const std::size_t len = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // the terminating NUL
  return out;
}

}  // namespace sco::core
