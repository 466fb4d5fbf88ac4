#pragma once
// A stored STAC item served as text, without parsing it into a JSON tree: its top-level members are
// copied as they are, except `links`, which is replaced. Searches return pages of items; parsing and
// re-serialising each one was half of a search's cost. Falls back (nullopt) whenever the document
// needs more than that: an asset whose href is a local path (it becomes an /assets URL), an id or
// collection with escapes, or text that is not a JSON object.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sco::server {

// `links(id, collection)` gives the JSON text of the item's links array.
std::optional<std::string> served_item_text(std::string_view doc,
                                            const std::function<std::string(std::string_view id, std::string_view collection)>& links);

}  // namespace sco::server
