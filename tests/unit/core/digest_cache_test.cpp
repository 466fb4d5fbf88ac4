// The digest cache: a large file's SHA-256 remembered, and forgotten as soon as the file is written.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "core/digest_cache.hpp"

namespace fs = std::filesystem;

TEST(DigestCache, RemembersLargeFilesUntilTheyAreWritten) {
  const fs::path dir = fs::temp_directory_path() / ("sco-digest-cache-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cache = (dir / "sha256.tsv").string();
  ::setenv("SCO_HASH_CACHE", cache.c_str(), 1);  // before the first use in this process
  const std::string big = (dir / "big.bin").string(), small = (dir / "small.bin").string();
  {
    std::ofstream f(big, std::ios::binary);
    const std::string block(1 << 20, 'a');
    for (int i = 0; i < 17; ++i) f << block;  // 17 MiB: over the 16 MiB threshold
    std::ofstream(small) << "small";
  }
  // a file written within the last two seconds is hashed but not remembered (its times are coarse)
  EXPECT_EQ(sco::core::sha256_file_cached(big), sco::core::sha256_file(big));
  EXPECT_FALSE(fs::exists(cache));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const std::string want = sco::core::sha256_file(big);
  EXPECT_EQ(sco::core::sha256_file_cached(big), want);
  EXPECT_EQ(sco::core::sha256_file_cached(small), sco::core::sha256_file(small));
  // one line, the large file's; a second call reads the cache (a new line would mean it hashed again)
  auto lines = [&] {
    std::ifstream in(cache);
    std::string l;
    int n = 0;
    while (std::getline(in, l)) ++n;
    return n;
  };
  EXPECT_EQ(lines(), 1);
  EXPECT_EQ(sco::core::sha256_file_cached(big), want);
  EXPECT_EQ(lines(), 1);
  // a write (same size, same content length): the status-change time moves, the file is hashed again
  {
    std::fstream f(big, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5);
    f.put('b');
  }
  const std::string changed = sco::core::sha256_file(big);
  EXPECT_NE(changed, want);
  EXPECT_EQ(sco::core::sha256_file_cached(big), changed);  // not the remembered digest
  EXPECT_EQ(lines(), 1);                                   // and, changed just now, not remembered yet
  EXPECT_EQ(fs::status(cache).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);  // owner-only
  // Many files at once, by three threads: each digest the file's own (the big one's as changed); a
  // missing file fails the whole call, naming it.
  std::vector<std::string> many = {big, small};
  for (int i = 0; i < 9; ++i) {
    many.push_back((dir / ("f" + std::to_string(i))).string());
    std::ofstream(many.back()) << "file " << i;
  }
  const auto digests = sco::core::sha256_files_cached(many, 3);
  ASSERT_EQ(digests.size(), many.size());
  for (const auto& p : many) EXPECT_EQ(digests.at(p), sco::core::sha256_file(p)) << p;
  many.push_back((dir / "missing").string());
  try {
    sco::core::sha256_files_cached(many, 3);
    ADD_FAILURE() << "a missing file was hashed";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}
