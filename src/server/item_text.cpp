#include "server/item_text.hpp"

#include <vector>

namespace sco::server {

namespace {

constexpr std::size_t kBad = std::string_view::npos;

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && space(s[i])) ++i;
  return i;
}

// The end of the string starting at the quote s[i] (one past its closing quote), kBad if unclosed.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return kBad;
}

// The end of the value starting at s[i], kBad if it is malformed or cut short.
std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return kBad;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        if (i == kBad) return kBad;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kBad;
  }
  const std::size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !space(s[i])) ++i;
  return i > start ? i : kBad;
}

struct Member {
  std::string_view key;  // raw, between the quotes
  std::size_t begin = 0, value = 0, end = 0;  // the member's text is [begin, end), its value [value, end)
};

// The members of the object at s[i], in order; false if it is not a well-formed object.
bool members(std::string_view s, std::size_t i, std::vector<Member>& out) {
  i = skip_space(s, i);
  if (i >= s.size() || s[i] != '{') return false;
  i = skip_space(s, i + 1);
  if (i < s.size() && s[i] == '}') return true;
  while (i < s.size()) {
    Member m;
    m.begin = i;
    if (s[i] != '"') return false;
    const std::size_t key_end = skip_string(s, i);
    if (key_end == kBad) return false;
    m.key = s.substr(i + 1, key_end - i - 2);
    i = skip_space(s, key_end);
    if (i >= s.size() || s[i] != ':') return false;
    m.value = skip_space(s, i + 1);
    m.end = skip_value(s, m.value);
    if (m.end == kBad) return false;
    out.push_back(m);
    i = skip_space(s, m.end);
    if (i < s.size() && s[i] == '}') return true;
    if (i >= s.size() || s[i] != ',') return false;
    i = skip_space(s, i + 1);
  }
  return false;
}

// The text of a plain string value (no escapes), or nullopt.
std::optional<std::string_view> plain_string(std::string_view s, const Member& m) {
  if (s[m.value] != '"') return std::nullopt;
  const std::string_view v = s.substr(m.value + 1, m.end - m.value - 2);
  if (v.find('\\') != std::string_view::npos) return std::nullopt;
  return v;
}

// Whether an asset's href is a path on this node (no scheme): the full path rewrites it.
bool has_local_href(std::string_view s, const Member& assets) {
  if (s[assets.value] != '{') return false;
  std::vector<Member> list;
  if (!members(s, assets.value, list)) return true;  // cannot tell: take the full path
  for (const auto& a : list) {
    if (s[a.value] != '{') continue;  // not an asset object: left as it is
    std::vector<Member> fields;
    if (!members(s, a.value, fields)) return true;
    for (const auto& f : fields) {
      if (f.key != "href") continue;
      if (s[f.value] != '"') return true;
      const std::string_view href = s.substr(f.value + 1, f.end - f.value - 2);
      if (!href.empty() && href.find("://") == std::string_view::npos) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> served_item_text(std::string_view doc,
                                            const std::function<std::string(std::string_view id, std::string_view collection)>& links) {
  std::vector<Member> list;
  if (!members(doc, 0, list)) return std::nullopt;
  std::optional<std::string_view> id, collection;
  for (const auto& m : list) {
    if (m.key == "id" && !(id = plain_string(doc, m))) return std::nullopt;
    if (m.key == "collection" && !(collection = plain_string(doc, m))) return std::nullopt;
    if (m.key == "assets" && has_local_href(doc, m)) return std::nullopt;
    if (m.key.find('\\') != std::string_view::npos) return std::nullopt;
  }
  std::string out;
  out.reserve(doc.size() + 512);
  out += '{';
  for (const auto& m : list) {
    if (m.key == "links") continue;
    if (out.size() > 1) out += ',';
    out.append(doc.substr(m.begin, m.end - m.begin));
  }
  if (out.size() > 1) out += ',';
  out += "\"links\":";
  out += links(id.value_or(std::string_view()), collection.value_or(std::string_view()));
  out += '}';
  return out;
}

}  // namespace sco::server
