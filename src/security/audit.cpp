#include "security/audit.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"
#include "security/node_state.hpp"

namespace sco::security {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
constexpr const char* kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

std::string entry_hash(json entry) {
  entry.erase("hash");
  return core::sha256_hex(canonical_json(entry));
}

AuditEntry append(const std::string& dir, const NodeKeys& keys, const std::string& event, const json& detail, bool ahead) {
  auto state = node_state(dir);
  AuditEntry made;
  state->append_audit([&](const std::string& last_line) {
    std::size_t seq = 0;
    std::string prev = kGenesis;
    if (!last_line.empty()) {
      const json last = json::parse(last_line, nullptr, false);
      if (last.is_discarded()) {
        core::fail(ErrorCode::kInvalidInput, "the audit log '{}' ends with a broken line: run sco audit verify", state->audit_location());
      }
      seq = last.value("seq", std::size_t{0}) + 1;
      prev = last.value("hash", std::string(kGenesis));
    }
    json entry = {{"seq", seq}, {"time", core::utc_now_ms()}, {"event", event}, {"detail", detail}, {"prev", prev}};
    if (ahead) entry["commit"] = "catalog";
    entry["hash"] = entry_hash(entry);
    made = {seq, entry["hash"].get<std::string>()};
    // The head: seq and hash signed by the node, so that entries removed at the end are seen.
    const json h = {{"seq", seq}, {"hash", made.hash}, {"signature", keys.sign(fmt::format("{}:{}", seq, made.hash))},
                    {"key_id", keys.public_key().key_id()}};
    return NodeState::AuditAppend{entry.dump(), h.dump()};
  });
  return made;
}
}  // namespace

AuditEntry audit(const std::string& dir, const NodeKeys& keys, const std::string& event, const json& detail) {
  return append(dir, keys, event, detail, false);
}

AuditEntry audit_ahead(const std::string& dir, const NodeKeys& keys, const std::string& event, const json& detail) {
  return append(dir, keys, event, detail, true);
}

AuditCheck verify_audit(const std::string& dir) {
  AuditCheck c;
  auto state = node_state(dir);
  std::uint64_t position = 0;
  const auto lines = state->audit_lines(position);
  std::string prev = kGenesis;
  std::size_t expect = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json e = json::parse(lines[i], nullptr, false);
    const std::string where = fmt::format("line {}", i + 1);
    if (e.is_discarded() || !e.is_object()) {
      c.problems.push_back(where + ": not a JSON entry");
      continue;
    }
    const std::size_t seq = e.value("seq", std::size_t{0});
    if (seq != expect) c.problems.push_back(fmt::format("{}: entry {} where {} was expected (an entry removed or moved)", where, seq, expect));
    if (e.value("prev", "") != prev) c.problems.push_back(where + ": does not follow the previous entry (removed, inserted or reordered)");
    if (entry_hash(e) != e.value("hash", "")) c.problems.push_back(where + ": its content does not match its hash (edited)");
    if (e.value("commit", "") == "catalog") c.written_ahead.push_back({{seq, e.value("hash", "")}, e.value("event", "")});
    prev = e.value("hash", "");
    expect = seq + 1;
    ++c.entries;
  }
  if (const auto head = state->audit_head()) {
    json h = json::parse(*head, nullptr, false);
    if (h.is_discarded()) {
      c.problems.push_back("audit.head: unreadable");
    } else {
      bool signed_ok = false;
      for (const auto& k : trusted_keys(dir)) {
        if (k.key_id() == h.value("key_id", "")) {
          signed_ok = verify_signature(k, fmt::format("{}:{}", h.value("seq", std::size_t{0}), h.value("hash", "")), h.value("signature", ""));
        }
      }
      if (!signed_ok) c.problems.push_back("audit.head: its signature is not the node's (edited)");
      if (h.value("hash", "") != prev || h.value("seq", std::size_t{0}) + 1 != expect) {
        c.problems.push_back(fmt::format("the log ends at entry {} but the signed head names entry {} (entries removed at the end)",
                                         expect == 0 ? 0 : expect - 1, h.value("seq", std::size_t{0})));
      }
    }
  } else if (!lines.empty()) {
    c.problems.push_back("audit.head is missing");
  }
  c.ok = c.problems.empty();
  return c;
}

std::vector<std::string> audit_tail(const std::string& dir, std::size_t n) {
  std::uint64_t position = 0;
  auto lines = node_state(dir)->audit_lines(position);
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

}  // namespace sco::security
