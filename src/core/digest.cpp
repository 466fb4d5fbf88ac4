#include "core/digest.hpp"

#include <cstdio>
#include <memory>
#include <vector>

#include <openssl/evp.h>
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

// SHA-256 through OpenSSL's EVP, which uses the CPU's SHA extensions where it has them (about 4x
// libsodium's portable code on this host: run provenance hashes every input file).
std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) fail(ErrorCode::kInternal, "SHA-256 failed");
  return to_hex(digest);
}

std::string sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail(ErrorCode::kNotFound, "cannot open '{}' to compute its checksum", path);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) fail(ErrorCode::kInternal, "SHA-256 failed");
  std::vector<unsigned char> buffer(1 << 20);
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f.get())) > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), n);
  if (std::ferror(f.get())) fail(ErrorCode::kIo, "error reading '{}' to compute its checksum", path);
  unsigned char digest[crypto_hash_sha256_BYTES];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) fail(ErrorCode::kInternal, "SHA-256 failed");
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
