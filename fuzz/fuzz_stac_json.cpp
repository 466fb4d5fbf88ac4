// STAC JSON as it arrives from outside: a search body POSTed to /stac/search, and an item as `sco
// sync` / `sco verify` receive it (canonical JSON, signature check). Properties: no crash, no
// sanitizer report; the API answers 200 or a 4xx JSON error, never 500; canonical JSON is idempotent;
// an item served as text is still a JSON object.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"
#include "server/item_text.hpp"
#include "server/stac_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static sco::server::StacApi api(sco::fuzz::fuzz_store());
  sco::server::ApiRequest req;
  req.method = "POST";
  req.path = "/stac/search";
  req.body = text;
  req.base_url = "http://fuzz";
  const sco::server::ApiResponse r = api.handle(req);
  if (r.status >= 500) std::abort();

  // An item served as text (server/item_text) from whatever the catalog holds: never a crash, and
  // from a JSON object, a JSON object with the new links.
  const auto served = sco::server::served_item_text(text, [](std::string_view, std::string_view) { return std::string("[]"); });
  nlohmann::json item;
  try {
    item = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  if (served && item.is_object()) {
    const nlohmann::json back = nlohmann::json::parse(*served, nullptr, false);
    if (back.is_discarded() || !back.is_object() || back.value("links", nlohmann::json()) != nlohmann::json::array()) std::abort();
  }
  try {
    const std::string canon = sco::security::canonical_json(item);
    if (sco::security::canonical_json(nlohmann::json::parse(canon)) != canon) std::abort();
    static const std::vector<sco::security::PublicKey> trusted = {
        sco::security::parse_public_key("sco-ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= fuzz", "fuzz")};
    (void)sco::security::verify_item(item, trusted, false);
  } catch (const sco::core::Error&) {
  }
  return 0;
}
