#include "indicators/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/digest.hpp"

namespace sco::indicators {

using nlohmann::json;

namespace {

using Rgb = std::array<std::uint8_t, 3>;

// A palette as evenly spaced stops, interpolated linearly in sRGB.
Palette make_palette(const std::vector<Rgb>& stops) {
  Palette p{};
  for (int i = 0; i < 256; ++i) {
    const double t = i / 255.0 * static_cast<double>(stops.size() - 1);
    const std::size_t k = std::min(static_cast<std::size_t>(t), stops.size() - 2);
    const double f = t - static_cast<double>(k);
    for (int c = 0; c < 3; ++c) {
      p[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)] =
          static_cast<std::uint8_t>(std::lround(stops[k][static_cast<std::size_t>(c)] * (1 - f) + stops[k + 1][static_cast<std::size_t>(c)] * f));
    }
  }
  return p;
}

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "&ndash;";
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-3)) return fmt::format("{:.3e}", v);
  if (a >= 1000) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.3g}", v);
}

std::string hex(const Rgb& c) { return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]); }

std::string gradient_css(const Palette& p) {
  std::string s = "linear-gradient(to right";
  for (int i = 0; i <= 8; ++i) s += ", " + hex(p[static_cast<std::size_t>(i * 255 / 8)]);
  return s + ")";
}

std::size_t column_index(const ReportTable& t, const std::string& name) {
  const auto it = std::find(t.columns.begin(), t.columns.end(), name);
  return it == t.columns.end() ? t.columns.size() : static_cast<std::size_t>(it - t.columns.begin());
}

std::string text_value(const ReportTable& t, std::size_t row, const std::string& column) {
  const auto it = std::find(t.text_columns.begin(), t.text_columns.end(), column);
  if (it == t.text_columns.end() || row >= t.text_rows.size()) return "";
  return t.text_rows[row][static_cast<std::size_t>(it - t.text_columns.begin())];
}

// The two maps: the raster picture with district outlines, and the districts coloured by the figure.
std::string maps_html(const ReportTable& t, std::size_t col) {
  const Palette& pal = palette(t.map.palette);
  std::string out = "<div class=\"maps\">";
  const int w = t.map.width, h = t.map.height;
  if (!t.map.png.empty()) {
    out += fmt::format("<figure><svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"map of {}\">", w, h,
                       std::min(w, 420), std::min(w, 420) * h / std::max(w, 1), esc(t.title));
    out += fmt::format("<image width=\"{}\" height=\"{}\" href=\"data:image/png;base64,{}\" style=\"image-rendering:pixelated\"/>", w, h,
                       core::base64(t.map.png));
    for (const auto& d : t.map.zone_paths) {
      if (!d.empty()) out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"#222\" stroke-width=\"0.6\"/>";
    }
    out += fmt::format("</svg><figcaption>The indicator's raster with the districts' outlines.<div class=\"legend\" style=\"background:{}\"></div>"
                       "<div class=\"legend-ends\"><span>{}</span><span>{}</span></div></figcaption></figure>",
                       gradient_css(pal), num(t.map.low), num(t.map.high));
  }
  if (col < t.columns.size()) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& row : t.rows) {
      if (std::isfinite(row[col])) {
        lo = std::min(lo, row[col]);
        hi = std::max(hi, row[col]);
      }
    }
    out += fmt::format("<figure><svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"districts by {}\">", w, h,
                       std::min(w, 420), std::min(w, 420) * h / std::max(w, 1), esc(t.columns[col]));
    for (std::size_t i = 0; i < t.map.zone_paths.size() && i < t.rows.size(); ++i) {
      const double v = t.rows[i][col];
      std::string fill = "#dddddd";
      if (std::isfinite(v)) {
        const double f = hi > lo ? (v - lo) / (hi - lo) : 1.0;
        fill = hex(pal[static_cast<std::size_t>(std::lround(std::clamp(f, 0.0, 1.0) * 255))]);
      }
      out += fmt::format("<path d=\"{}\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.4\" fill-rule=\"evenodd\"><title>{}: {}</title></path>",
                         t.map.zone_paths[i], fill, esc(t.ids[i]), num(v));
    }
    out += fmt::format("</svg><figcaption>Districts coloured by <b>{}</b>{} (grey: no value).<div class=\"legend\" style=\"background:{}\"></div>"
                       "<div class=\"legend-ends\"><span>{}</span><span>{}</span></div></figcaption></figure>",
                       esc(t.columns[col]), t.units.empty() ? "" : " (" + esc(t.units) + ")", gradient_css(pal), num(lo), num(hi));
  }
  return out + "</div>";
}

// Horizontal bars, highest first; at most 25 districts (the table has them all).
std::string chart_html(const ReportTable& t, std::size_t col) {
  if (col >= t.columns.size()) return "";
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    if (std::isfinite(t.rows[i][col])) order.push_back(i);
  }
  if (order.empty()) return "<p class=\"note\">No district has a value.</p>";
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t.rows[a][col] > t.rows[b][col]; });
  const std::size_t shown = std::min<std::size_t>(order.size(), 25);
  double lo = 0, hi = 0;
  for (std::size_t i : order) {
    lo = std::min(lo, t.rows[i][col]);
    hi = std::max(hi, t.rows[i][col]);
  }
  const double span = hi - lo > 0 ? hi - lo : 1.0;
  const int bar_h = 16, label_w = 190, plot_w = 360;
  const int height = static_cast<int>(shown) * bar_h + 8;
  std::string out = fmt::format("<figure><svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" class=\"chart\">", label_w + plot_w + 70, height,
                                label_w + plot_w + 70, height);
  const double zero_x = label_w + (0 - lo) / span * plot_w;
  for (std::size_t k = 0; k < shown; ++k) {
    const std::size_t i = order[k];
    const double v = t.rows[i][col];
    const double x = label_w + (std::min(v, 0.0) - lo) / span * plot_w;
    const double bw = std::fabs(v) / span * plot_w;
    const int y = static_cast<int>(k) * bar_h + 4;
    const std::string cls = text_value(t, i, "class");
    const char* colour = cls == "high" ? "#c0392b" : cls == "medium" ? "#e67e22" : cls == "low" ? "#27ae60" : "#4a6fa5";
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", label_w - 6, y + 12, esc(t.ids[i].substr(0, 28)));
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>", x, y + 2, std::max(bw, 0.5), bar_h - 4, colour);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>", std::max(x + bw, zero_x) + 4, y + 12, num(v));
  }
  out += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"0\" y2=\"{}\" stroke=\"#888\"/></svg>", zero_x, zero_x, height);
  out += fmt::format("<figcaption>{} per district, highest first{}.</figcaption></figure>", esc(t.columns[col]),
                     order.size() > shown ? fmt::format(" ({} of {} shown; all are in the table)", shown, order.size()) : "");
  return out;
}

std::string table_html(const ReportTable& t) {
  std::string out = "<details><summary>Table: every district (" + std::to_string(t.ids.size()) + ")</summary><table><thead><tr><th>" +
                    esc(t.id_column) + "</th>";
  for (const auto& c : t.columns) out += "<th>" + esc(c) + "</th>";
  for (const auto& c : t.text_columns) out += "<th>" + esc(c) + "</th>";
  out += "</tr></thead><tbody>";
  for (std::size_t i = 0; i < t.ids.size(); ++i) {
    out += "<tr><td>" + esc(t.ids[i]) + "</td>";
    for (double v : t.rows[i]) out += "<td class=\"n\">" + num(v) + "</td>";
    if (i < t.text_rows.size()) {
      for (const auto& s : t.text_rows[i]) out += "<td class=\"c-" + esc(s) + "\">" + esc(s) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table></details>";
}

// The trend in words, per district, when the table has one.
std::string trend_html(const ReportTable& t) {
  const std::size_t slope = column_index(t, "slope"), p = column_index(t, "p_value");
  if (slope >= t.columns.size() || p >= t.columns.size()) return "";
  int up = 0, down = 0, none = 0, short_record = 0;
  std::string method, too_short;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const std::string sig = text_value(t, i, "significant");
    const std::string m = text_value(t, i, "method");
    if (m.rfind("record too short", 0) == 0) {
      ++short_record;
      too_short = m;
    } else if (!m.empty()) {
      method = m;
    }
    if (sig == "yes" && t.rows[i][slope] > 0) ++up;
    else if (sig == "yes" && t.rows[i][slope] < 0) ++down;
    else if (sig == "no") ++none;
  }
  if (short_record > 0 && up + down + none == 0) {
    return fmt::format("<p class=\"trend\"><b>No trend is reported</b>: {}. A trend needs years of data; a shorter record "
                       "shows the seasonal cycle or the weather of its years, not a change of climate.</p>",
                       esc(too_short));
  }
  const std::string how = method.rfind("seasonal", 0) == 0
                              ? "seasonal Sen slope, " + esc(method) + " test (Hirsch, Slack &amp; Smith 1982)"
                              : std::string("Sen's slope, Mann&ndash;Kendall test");
  return fmt::format("<p class=\"trend\">Trend ({}): <b>{}</b> district{} with a significant rise, "
                     "<b>{}</b> with a significant fall, <b>{}</b> without a significant trend{}.</p>",
                     how, up, up == 1 ? "" : "s", down, none,
                     short_record ? fmt::format(", <b>{}</b> with too short a record", short_record) : "");
}

std::string class_summary(const ReportTable& t) {
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < t.ids.size(); ++i) {
    const std::string c = text_value(t, i, "class");
    if (!c.empty()) ++counts[c];
  }
  if (counts.empty()) return "";
  std::string s = "<p class=\"classes\">Classes: ";
  bool first = true;
  for (const char* name : {"high", "medium", "low"}) {
    if (!counts.count(name)) continue;
    s += fmt::format("{}<span class=\"c-{}\">{}</span> {}", first ? "" : ", ", name, name, counts[name]);
    first = false;
  }
  for (const auto& [name, n] : counts) {
    if (name != "high" && name != "medium" && name != "low") s += fmt::format(", {} {}", esc(name), n);
  }
  return s + " districts.</p>";
}

}  // namespace

const Palette& palette(const std::string& name) {
  static const std::map<std::string, Palette> palettes = {
      {"heat", make_palette({{255, 255, 204}, {254, 217, 118}, {253, 141, 60}, {227, 26, 28}, {128, 0, 38}})},
      {"water", make_palette({{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}})},
      {"vegetation", make_palette({{140, 81, 10}, {216, 179, 101}, {246, 232, 195}, {127, 188, 65}, {0, 104, 55}})},
      {"burn", make_palette({{26, 152, 80}, {217, 239, 139}, {254, 224, 139}, {244, 109, 67}, {165, 0, 38}})},
      {"urban", make_palette({{247, 244, 249}, {212, 185, 218}, {201, 148, 199}, {152, 0, 67}, {73, 0, 106}})},
      {"diverging", make_palette({{33, 102, 172}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {178, 24, 43}})},
      {"sequential", make_palette({{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}})},
  };
  const auto it = palettes.find(name);
  return it == palettes.end() ? palettes.at("sequential") : it->second;
}

std::string palette_for_category(const std::string& category) {
  if (category == "heat") return "heat";
  if (category == "precipitation" || category == "water") return "water";
  if (category == "vegetation") return "vegetation";
  if (category == "fire") return "burn";
  if (category == "urban") return "urban";
  return "sequential";
}

std::string zone_svg_path(const zonal::Zone& zone, const std::array<double, 6>& t, int grid_w, int grid_h, int pic_w, int pic_h) {
  const double sx = static_cast<double>(pic_w) / grid_w, sy = static_cast<double>(pic_h) / grid_h;
  std::string d;
  auto ring = [&](const std::vector<zonal::Point>& pts) {
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const double px = (pts[i].x - t[0]) / t[1] * sx, py = (pts[i].y - t[3]) / t[5] * sy;
      d += fmt::format("{}{:.1f} {:.1f}", i == 0 ? "M" : "L", px, py);
    }
    if (!pts.empty()) d += "Z";
  };
  for (const auto& part : zone.parts) {
    ring(part.exterior);
    for (const auto& h : part.holes) ring(h);
  }
  return d;
}

std::string render_report(const ReportModel& m) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">";
  h += "<title>" + esc(m.title) + " &mdash; sco report</title><style>"
       "body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1d2733}"
       "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #dde3ea;padding-bottom:.2em;margin-top:2em}"
       ".meta{color:#5a6675}.maps{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:.5em 0}figcaption{font-size:.85em;color:#5a6675;max-width:420px}"
       ".legend{height:10px;border-radius:3px;margin-top:4px}.legend-ends{display:flex;justify-content:space-between}"
       "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #dde3ea;padding:2px 6px}td.n{text-align:right;font-variant-numeric:tabular-nums}"
       ".c-high{color:#c0392b;font-weight:600}.c-medium{color:#d35400}.c-low{color:#27ae60}.note{background:#fff6e0;padding:.4em .8em;border-radius:4px}"
       ".chart text{font-size:11px}pre{background:#f4f6f8;padding:.8em;overflow:auto;font-size:.8em}"
       "@media print{details{display:block}details>summary{display:none}}"
       "</style></head><body>\n";
  h += "<h1>" + esc(m.title) + "</h1>";
  h += fmt::format("<p class=\"meta\">Indicator <code>{}</code> version {} &middot; area of interest <code>{}</code> &middot; produced by sco {} on {}</p>",
                   esc(m.recipe_id), esc(m.recipe_version), esc(m.area_of_interest),
                   esc(m.provenance.value("software", json::object()).value("version", std::string("?"))),
                   esc(m.provenance.value("finished", std::string("?"))));
  if (!m.description.empty()) h += "<p>" + esc(m.description) + "</p>";
  for (const auto& w : m.warnings) h += "<p class=\"note\">Note: " + esc(w) + "</p>";
  for (const auto& t : m.tables) {
    h += "<h2>" + esc(t.title) + (t.units.empty() ? "" : " <small>(" + esc(t.units) + ")</small>") + "</h2>";
    if (!t.description.empty()) h += "<p>" + esc(t.description) + "</p>";
    const std::size_t col = column_index(t, t.main_column);
    h += class_summary(t);
    h += trend_html(t);
    h += maps_html(t, col);
    h += chart_html(t, col);
    for (const auto& n : t.notes) h += "<p class=\"note\">Data quality: " + esc(n) + "</p>";
    h += table_html(t);
  }
  if (!m.rasters.empty()) {
    h += "<h2>Rasters</h2><ul>";
    for (const auto& [title, file] : m.rasters) h += "<li><a href=\"" + esc(file) + "\">" + esc(file) + "</a>: " + esc(title) + " (cloud-optimised GeoTIFF)</li>";
    h += "</ul>";
  }
  if (!m.references.empty()) {
    h += "<h2>Method and references</h2><ul>";
    for (const auto& r : m.references) h += "<li>" + esc(r) + "</li>";
    h += "</ul>";
  }
  h += "<h2>Provenance</h2><p>Recipe SHA-256 <code>" + esc(m.provenance.value("recipe", json::object()).value("sha256", std::string())) +
       "</code>. Each input below is identified by its SHA-256; the same recipe on the same inputs gives identical rasters and tables.</p>";
  h += "<table><thead><tr><th>input</th><th>given</th><th>file</th><th>SHA-256</th></tr></thead><tbody>";
  for (const auto& in : m.provenance.value("inputs", json::array())) {
    for (const auto& src : in.value("sources", json::array())) {
      for (const auto& f : src.value("files", json::array())) {
        h += "<tr><td>" + esc(in.value("name", std::string())) + "</td><td>" + esc(src.value("given", std::string())) + "</td><td>" +
             esc(f.value("path", std::string())) + "</td><td><code>" + esc(f.value("sha256", std::string())) + "</code></td></tr>";
      }
    }
  }
  h += "</tbody></table><details><summary>provenance.json</summary><pre>" + esc(m.provenance.dump(2)) + "</pre></details>";
  h += "</body></html>\n";
  return h;
}

}  // namespace sco::indicators
