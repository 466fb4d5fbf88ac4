#pragma once
// SHA-256 of large input files remembered between runs, as git's index remembers what it hashed: a
// file's digest is reused while its device, inode, size, modification and status-change times (to the
// nanosecond) are those it was hashed with; any write to the file changes its status-change time,
// which no one but the kernel sets. A run over a 39 GB archive otherwise reads it twice (once to hash
// it for the provenance, once to compute). Files under 16 MiB are always hashed.
//
// The cache is one text file, owner-only: $SCO_HASH_CACHE, else $XDG_CACHE_HOME/sco/sha256.tsv, else
// ~/.cache/sco/sha256.tsv; SCO_HASH_CACHE=off hashes every time. Lines are appended (one write each,
// so concurrent runs do not interleave them); the last line for a file wins; an unreadable or damaged
// cache is only a cache: the files are hashed.
#include <map>
#include <string>
#include <vector>

namespace sco::core {

std::string sha256_file_cached(const std::string& path);
// The same for many files, `threads` of them hashed at once (each file by one thread): path -> digest.
// The first error (a file that cannot be read) is thrown once every thread has stopped.
std::map<std::string, std::string> sha256_files_cached(const std::vector<std::string>& paths, int threads);

}  // namespace sco::core
