#include "codec/scanline_deflate.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace sco::codec {

namespace {

// RFC 1951 3.2.5: length symbols 257..285 and distance codes 0..29, their base values and extra bits.
constexpr std::array<std::uint16_t, 29> kLenBase{3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<std::uint8_t, 29> kLenExtra{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<std::uint16_t, 30> kDistBase{1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                                  193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<std::uint8_t, 30> kDistExtra{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                                  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Order in which the code-length code's lengths are sent (3.2.7).
constexpr std::array<std::uint8_t, 19> kClenOrder{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

constexpr int kLitSyms = 286, kDistSyms = 30, kClenSyms = 19;
constexpr std::size_t kMaxMatch = 258;

struct LenCode {
  std::uint16_t sym;    // 257..285
  std::uint8_t extra;   // extra bits
  std::uint16_t value;  // extra bits' value
};

// Length 0..258 -> its symbol and extra bits (3..258 used).
const std::array<LenCode, kMaxMatch + 1>& len_codes() {
  static const auto table = [] {
    std::array<LenCode, kMaxMatch + 1> t{};
    for (int code = 0; code < 29; ++code) {
      const int top = code == 28 ? 258 : (code == 27 ? 257 : kLenBase[code + 1] - 1);
      for (int l = kLenBase[code]; l <= top; ++l) {
        t[l] = {static_cast<std::uint16_t>(257 + code), kLenExtra[code], static_cast<std::uint16_t>(l - kLenBase[code])};
      }
    }
    return t;
  }();
  return table;
}

int dist_code(std::size_t d) {
  int c = 0;
  while (c + 1 < 30 && kDistBase[c + 1] <= d) ++c;
  return c;
}

std::uint32_t reverse_bits(std::uint32_t code, int len) {
  std::uint32_t r = 0;
  for (int k = 0; k < len; ++k) r |= ((code >> k) & 1u) << (len - 1 - k);
  return r;
}

// Huffman code lengths for `freq[0, n)`, at most `max_bits` long (zero for unused symbols). Needs
// at least two used symbols, so that the code is complete. Where the optimal tree is too deep, the
// frequencies are halved (keeping every used symbol) and the tree rebuilt: rare, and close to
// optimal.
void huffman_lengths(const std::uint32_t* freq, int n, int max_bits, std::uint8_t* len) {
  std::fill(len, len + n, 0);
  // Fixed-size working space (n <= 286 symbols): no allocation per tile.
  std::array<std::pair<std::uint64_t, int>, kLitSyms> sym;
  std::array<std::uint64_t, 2 * kLitSyms> weight;
  std::array<int, 2 * kLitSyms> parent, depth;
  int m = 0;
  for (int i = 0; i < n; ++i) {
    if (freq[i]) sym[m++] = {freq[i], i};
  }
  for (;;) {
    std::sort(sym.begin(), sym.begin() + m);
    for (int i = 0; i < m; ++i) weight[i] = sym[i].first;
    // Two queues: the sorted leaves, and the internal nodes, made in non-decreasing weight.
    int leaf = 0, node = m, made = m;
    auto take = [&] {
      if (leaf < m && (node >= made || weight[leaf] <= weight[node])) return leaf++;
      return node++;
    };
    for (; made < 2 * m - 1; ++made) {
      const int a = take(), b = take();
      weight[made] = weight[a] + weight[b];
      parent[a] = parent[b] = made;
    }
    depth[2 * m - 2] = 0;
    int deepest = 0;
    for (int k = 2 * m - 3; k >= 0; --k) {
      depth[k] = depth[parent[k]] + 1;
      if (k < m) deepest = std::max(deepest, depth[k]);
    }
    if (deepest <= max_bits) {
      for (int i = 0; i < m; ++i) len[sym[i].second] = static_cast<std::uint8_t>(depth[i]);
      return;
    }
    for (int i = 0; i < m; ++i) sym[i].first = (sym[i].first >> 1) | 1u;
  }
}

// Canonical codes (3.2.2), bit-reversed for the LSB-first bit order of DEFLATE.
void canonical_codes(const std::uint8_t* len, int n, std::uint16_t* code) {
  int count[16] = {};
  for (int i = 0; i < n; ++i) count[len[i]]++;
  count[0] = 0;
  std::uint32_t next[16] = {};
  std::uint32_t c = 0;
  for (int bits = 1; bits < 16; ++bits) {
    c = (c + static_cast<std::uint32_t>(count[bits - 1])) << 1;
    next[bits] = c;
  }
  for (int i = 0; i < n; ++i) {
    code[i] = len[i] ? static_cast<std::uint16_t>(reverse_bits(next[len[i]]++, len[i])) : 0;
  }
}

// Makes sure at least two symbols are used (a complete code, which every inflater accepts).
void at_least_two(std::uint32_t* freq, int n) {
  int used = 0;
  for (int i = 0; i < n; ++i) used += freq[i] != 0;
  for (int i = 0; used < 2 && i < n; ++i) {
    if (freq[i] == 0) {
      freq[i] = 1;
      ++used;
    }
  }
}

class BitWriter {
 public:
  explicit BitWriter(std::uint8_t* p) : p_(p) {}
  // n <= 32 bits, LSB first.
  void put(std::uint32_t bits, int n) {
    acc_ |= static_cast<std::uint64_t>(bits) << used_;
    used_ += n;
    if (used_ >= 32) {
      const auto word = static_cast<std::uint32_t>(acc_);
      std::memcpy(p_, &word, 4);  // little-endian hosts (x86-64, aarch64)
      p_ += 4;
      acc_ >>= 32;
      used_ -= 32;
    }
  }
  std::uint8_t* finish() {
    while (used_ > 0) {
      *p_++ = static_cast<std::uint8_t>(acc_);
      acc_ >>= 8;
      used_ = used_ > 8 ? used_ - 8 : 0;
    }
    return p_;
  }

 private:
  std::uint8_t* p_;
  std::uint64_t acc_ = 0;
  int used_ = 0;
};

inline std::size_t match_length(const std::uint8_t* a, const std::uint8_t* b, std::size_t max) {
  std::size_t l = 0;
  while (l + 8 <= max) {
    std::uint64_t x, y;
    std::memcpy(&x, a + l, 8);
    std::memcpy(&y, b + l, 8);
    if (x != y) return l + static_cast<std::size_t>(__builtin_ctzll(x ^ y) >> 3);
    l += 8;
  }
  while (l < max && a[l] == b[l]) ++l;
  return l;
}

// A token: a stretch of literals (their count, < 2^31), or a match: bit 31, length - 3 in bits
// 16..23, and which of the two distances in bit 24 (0: one byte back, 1: one row back).
constexpr std::uint32_t kMatch = 1u << 31, kUp = 1u << 24;

}  // namespace

std::size_t zlib_compress_scanlines(const std::uint8_t* raw, std::size_t n, std::size_t stride, std::vector<std::uint8_t>& out) {
  const auto& lens = len_codes();
  const bool up = stride >= 2 && stride <= 32768;
  const int up_code = up ? dist_code(stride) : 0;
  thread_local std::vector<std::uint32_t> tokens;
  tokens.resize(n + 1);
  std::uint32_t lit_freq[kLitSyms] = {}, dist_freq[kDistSyms] = {};
  std::size_t nt = 0, i = 0, lit_start = 0;
  auto literals_to = [&](std::size_t end) {
    if (end <= lit_start) return;
    tokens[nt++] = static_cast<std::uint32_t>(end - lit_start);
    for (std::size_t k = lit_start; k < end; ++k) lit_freq[raw[k]]++;
  };
  // Greedy parse with two candidates: the run (distance 1) and the row above (distance `stride`).
  // Where eight bytes at a time show that no match of 3 (run) or 4 (row above) starts in the next
  // five positions, they are literals without further look.
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full, kFirst5 = 0x0000008080808080ull;
  auto equal_bytes = [](std::uint64_t x) { return ~(((x & kLow7) + kLow7) | x) & ~kLow7; };  // 0x80 where x's byte is 0
  while (i < n) {
    if (up && i >= stride && i + 16 <= n) {
      std::uint64_t w, p, u;
      std::memcpy(&w, raw + i, 8);
      std::memcpy(&p, raw + i - 1, 8);
      std::memcpy(&u, raw + i - stride, 8);
      const std::uint64_t e1 = equal_bytes(w ^ p), eu = equal_bytes(w ^ u);
      const std::uint64_t cand = ((e1 & e1 >> 8 & e1 >> 16) | (eu & eu >> 8 & eu >> 16 & eu >> 24)) & kFirst5;
      if (cand == 0) {
        i += 5;
        continue;
      }
      i += static_cast<std::size_t>(__builtin_ctzll(cand) >> 3);
    }
    const std::size_t max = std::min(kMaxMatch, n - i);
    std::size_t run = 0, col = 0;
    if (i >= 1 && raw[i] == raw[i - 1]) run = match_length(raw + i, raw + i - 1, max);
    if (up && i >= stride && raw[i] == raw[i - stride]) col = match_length(raw + i, raw + i - stride, max);
    if (run >= 3 && run >= col) {
      literals_to(i);
      tokens[nt++] = kMatch | static_cast<std::uint32_t>(run - 3) << 16;
      lit_freq[lens[run].sym]++;
      dist_freq[0]++;
      i += run;
      lit_start = i;
    } else if (col >= 4) {
      literals_to(i);
      tokens[nt++] = kMatch | kUp | static_cast<std::uint32_t>(col - 3) << 16;
      lit_freq[lens[col].sym]++;
      dist_freq[up_code]++;
      i += col;
      lit_start = i;
    } else {
      ++i;
    }
  }
  literals_to(n);
  lit_freq[256] = 1;  // end of block
  at_least_two(lit_freq, kLitSyms);
  at_least_two(dist_freq, kDistSyms);
  std::uint8_t lit_len[kLitSyms], dist_len[kDistSyms];
  huffman_lengths(lit_freq, kLitSyms, 15, lit_len);
  huffman_lengths(dist_freq, kDistSyms, 15, dist_len);
  std::uint16_t lit_code[kLitSyms], dist_cd[kDistSyms];
  canonical_codes(lit_len, kLitSyms, lit_code);
  canonical_codes(dist_len, kDistSyms, dist_cd);

  // The code lengths, run-length coded with symbols 16 (repeat the last 3..6 times), 17 (3..10
  // zeros) and 18 (11..138 zeros).
  int hlit = kLitSyms, hdist = kDistSyms;
  while (hlit > 257 && lit_len[hlit - 1] == 0) --hlit;
  while (hdist > 1 && dist_len[hdist - 1] == 0) --hdist;
  std::uint8_t seq[kLitSyms + kDistSyms];
  std::memcpy(seq, lit_len, static_cast<std::size_t>(hlit));
  std::memcpy(seq + hlit, dist_len, static_cast<std::size_t>(hdist));
  const int total = hlit + hdist;
  std::vector<std::pair<std::uint8_t, std::uint8_t>> items;  // (symbol, extra value)
  for (int k = 0; k < total;) {
    const std::uint8_t l = seq[k];
    int r = 1;
    while (k + r < total && seq[k + r] == l) ++r;
    k += r;
    if (l == 0) {
      while (r >= 11) {
        const int t = std::min(r, 138);
        items.emplace_back(18, static_cast<std::uint8_t>(t - 11));
        r -= t;
      }
      if (r >= 3) {
        items.emplace_back(17, static_cast<std::uint8_t>(r - 3));
        r = 0;
      }
      while (r-- > 0) items.emplace_back(0, 0);
    } else {
      items.emplace_back(l, 0);
      --r;
      while (r >= 3) {
        const int t = std::min(r, 6);
        items.emplace_back(16, static_cast<std::uint8_t>(t - 3));
        r -= t;
      }
      while (r-- > 0) items.emplace_back(l, 0);
    }
  }
  std::uint32_t clen_freq[kClenSyms] = {};
  for (const auto& [s, e] : items) clen_freq[s]++;
  at_least_two(clen_freq, kClenSyms);
  std::uint8_t clen_len[kClenSyms];
  huffman_lengths(clen_freq, kClenSyms, 7, clen_len);
  std::uint16_t clen_code[kClenSyms];
  canonical_codes(clen_len, kClenSyms, clen_code);
  int hclen = kClenSyms;
  while (hclen > 4 && clen_len[kClenOrder[hclen - 1]] == 0) --hclen;

  // The block's size in bits, to choose between it and stored blocks.
  std::uint64_t bits = 3 + 5 + 5 + 4 + 3 * static_cast<std::uint64_t>(hclen);
  for (const auto& [s, e] : items) bits += clen_len[s] + (s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0);
  for (int s = 0; s < kLitSyms; ++s) {
    bits += static_cast<std::uint64_t>(lit_freq[s]) * (lit_len[s] + (s > 256 ? kLenExtra[s - 257] : 0));
  }
  for (int s = 0; s < kDistSyms; ++s) bits += static_cast<std::uint64_t>(dist_freq[s]) * (dist_len[s] + kDistExtra[s]);
  const std::size_t stored_blocks = std::max<std::size_t>(1, (n + 65534) / 65535);
  const std::size_t stored_bytes = n + 5 * stored_blocks;
  const bool dynamic = (bits + 7) / 8 < stored_bytes;

  const std::size_t start = out.size();
  out.resize(start + 2 + (dynamic ? (bits + 7) / 8 : stored_bytes) + 4 + 8);  // + slack for 4-byte stores
  std::uint8_t* p = out.data() + start;
  *p++ = 0x78;  // CM 8 (deflate), CINFO 7 (32 KiB window)
  *p++ = 0x01;  // FLEVEL 0 (fastest), FCHECK: 0x7801 is a multiple of 31
  if (dynamic) {
    BitWriter bw(p);
    bw.put(1, 1);  // BFINAL
    bw.put(2, 2);  // BTYPE 10: dynamic Huffman codes
    bw.put(static_cast<std::uint32_t>(hlit - 257), 5);
    bw.put(static_cast<std::uint32_t>(hdist - 1), 5);
    bw.put(static_cast<std::uint32_t>(hclen - 4), 4);
    for (int k = 0; k < hclen; ++k) bw.put(clen_len[kClenOrder[k]], 3);
    for (const auto& [s, e] : items) {
      bw.put(clen_code[s], clen_len[s]);
      if (s == 16) bw.put(e, 2);
      if (s == 17) bw.put(e, 3);
      if (s == 18) bw.put(e, 7);
    }
    const std::uint32_t up_bits = up ? dist_cd[up_code] | (static_cast<std::uint32_t>(stride - kDistBase[up_code]) << dist_len[up_code]) : 0;
    const int up_n = up ? dist_len[up_code] + kDistExtra[up_code] : 0;
    const std::uint32_t one_bits = dist_cd[0];
    const int one_n = dist_len[0];
    const std::uint8_t* at = raw;
    for (std::size_t t = 0; t < nt; ++t) {
      const std::uint32_t tok = tokens[t];
      if (!(tok & kMatch)) {
        // A stretch of literals, two codes (at most 30 bits) a write.
        const std::uint8_t* end = at + tok;
        for (; at + 2 <= end; at += 2) {
          bw.put(lit_code[at[0]] | static_cast<std::uint32_t>(lit_code[at[1]]) << lit_len[at[0]], lit_len[at[0]] + lit_len[at[1]]);
        }
        if (at < end) {
          bw.put(lit_code[*at], lit_len[*at]);
          ++at;
        }
        continue;
      }
      const std::size_t length = ((tok >> 16) & 0xffu) + 3;
      const LenCode& lc = lens[length];
      bw.put(lit_code[lc.sym] | static_cast<std::uint32_t>(lc.value) << lit_len[lc.sym], lit_len[lc.sym] + lc.extra);
      if (tok & kUp) bw.put(up_bits, up_n);
      else bw.put(one_bits, one_n);
      at += length;
    }
    bw.put(lit_code[256], lit_len[256]);
    p = bw.finish();
  } else {
    for (std::size_t k = 0; k < stored_blocks; ++k) {
      const std::size_t off = k * 65535, len = std::min<std::size_t>(65535, n - off);
      *p++ = k + 1 == stored_blocks ? 1 : 0;  // BFINAL, BTYPE 00, then byte-aligned
      const auto l16 = static_cast<std::uint16_t>(len);
      const auto nl16 = static_cast<std::uint16_t>(~l16);
      *p++ = static_cast<std::uint8_t>(l16);
      *p++ = static_cast<std::uint8_t>(l16 >> 8);
      *p++ = static_cast<std::uint8_t>(nl16);
      *p++ = static_cast<std::uint8_t>(nl16 >> 8);
      if (len) std::memcpy(p, raw + off, len);
      p += len;
    }
  }
  const std::uint32_t adler = libdeflate_adler32(1, raw, n);
  *p++ = static_cast<std::uint8_t>(adler >> 24);
  *p++ = static_cast<std::uint8_t>(adler >> 16);
  *p++ = static_cast<std::uint8_t>(adler >> 8);
  *p++ = static_cast<std::uint8_t>(adler);
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out.size() - start;
}

}  // namespace sco::codec
