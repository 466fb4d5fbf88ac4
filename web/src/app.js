// The observatory's web map: pick an indicator, see it over the districts (raster tiles and a
// choropleth of the district figures), click a district for its values, exposure, its series and
// trend (for trend indicators) and links to the report and downloads. Everything comes from this sco node: /features (district tables),
// /stac (the catalog), /tiles (raster tiles).
"use strict";

const VIRIDIS = ["#440154", "#472c7a", "#3b518b", "#2c718e", "#21908d", "#27ad81", "#5cc863", "#aadc32", "#fde725"];
const state = { map: null, tables: [], current: null, features: null, chart: null };

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

function numericColumns(features, idColumn) {
  const props = features.length ? features[0].properties : {};
  return Object.keys(props).filter((k) => k !== idColumn && features.some((f) => typeof f.properties[k] === "number"));
}

function range(features, column) {
  let lo = Infinity, hi = -Infinity;
  for (const f of features) {
    const v = f.properties[column];
    if (typeof v === "number" && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!(lo < hi)) hi = lo + 1;
  return [lo, hi];
}

function fmt(v) {
  if (typeof v !== "number") return v === null || v === undefined ? "–" : String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : a >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function colourExpression(column, lo, hi) {
  const stops = [];
  VIRIDIS.forEach((c, i) => stops.push(lo + (hi - lo) * i / (VIRIDIS.length - 1), c));
  return ["case", ["==", ["typeof", ["get", column]], "number"], ["interpolate", ["linear"], ["get", column], ...stops], "#cccccc"];
}

function setLegend(column, lo, hi, units) {
  document.getElementById("legend").innerHTML =
    `<div class="bar" style="background:linear-gradient(to right,${VIRIDIS.join(",")})"></div>` +
    `<div class="ends"><span>${fmt(lo)}</span><span>${column}${units ? " (" + units + ")" : ""}</span><span>${fmt(hi)}</span></div>`;
}

function drawChart(column) {
  const el = document.getElementById("chart");
  el.innerHTML = "";
  const rows = state.features.filter((f) => typeof f.properties[column] === "number")
    .sort((a, b) => b.properties[column] - a.properties[column]);
  if (!rows.length) return;
  const xs = rows.map((_, i) => i + 1), ys = rows.map((f) => f.properties[column]);
  state.chart = new uPlot({
    width: 300, height: 160, legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ label: "district rank" }, { size: 50 }],
    series: [{}, { label: column, stroke: "#2c718e", fill: "rgba(44,113,142,0.25)", paths: uPlot.paths.bars({ size: [0.9, 20] }) }],
  }, [xs, ys], el);
}

// Puts (or, with no tiles, removes) a raster tile layer under the districts.
function setRasterLayer(id, tiles, opacity) {
  const map = state.map;
  if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(id)) map.removeSource(id);
  if (!tiles) return;
  map.addSource(id, { type: "raster", tiles: [location.origin + tiles], tileSize: 256 });
  map.addLayer({ id, type: "raster", source: id, paint: { "raster-opacity": opacity } }, map.getLayer("districts-fill") ? "districts-fill" : undefined);
}

async function showRaster(table) {
  setRasterLayer("raster", null);
  if (!document.getElementById("raster").checked || !table["sco:recipe"]) return;
  const found = await getJSON(`/stac/search?collections=${encodeURIComponent(table["sco:recipe"])}&limit=100`);
  const item = found.features.find((f) => f.id.startsWith(table["sco:run"] + "-"));
  if (!item) return;
  const band = item.assets.data["raster:bands"][0];
  const lo = band.statistics ? band.statistics.minimum : undefined;
  const hi = band.statistics ? band.statistics.maximum : undefined;
  const [tlo, thi] = lo !== undefined ? [lo, hi] : range(state.features, state.column);
  setRasterLayer("raster", `/tiles/${encodeURIComponent(table["sco:recipe"])}/${encodeURIComponent(item.id)}/data/{z}/{x}/{y}.png?colormap=viridis&rescale=${tlo},${thi}`, 0.75);
}

// A catalog layer: its items in time order; a date list when it has several; the chosen date's
// raster as tiles (first band, stretched over the band's statistics when the item has them).
async function showLayer(id) {
  document.querySelectorAll("#layers li").forEach((li) => li.classList.toggle("active", li.dataset.id === id));
  const found = await getJSON(`/stac/collections/${encodeURIComponent(id)}/items?limit=1000`);
  const items = found.features.filter((f) => f.assets && Object.values(f.assets).some((a) => (a.type || "").startsWith("image/tiff")));
  const when = (f) => f.properties.datetime || f.properties.start_datetime || "";
  items.sort((a, b) => when(a).localeCompare(when(b)));
  state.layerItems = items;
  const dates = document.getElementById("dates");
  dates.innerHTML = items.map((f, i) => `<option value="${i}">${when(f).slice(0, 10)} · ${f.id}</option>`).join("");
  dates.hidden = items.length < 2;
  if (items.length) {
    dates.value = String(items.length - 1);
    await showItem(items[items.length - 1]);
  }
}

async function showItem(item) {
  const map = state.map;
  setRasterLayer("layer", null);
  if (!item) return;
  const key = Object.keys(item.assets).find((k) => (item.assets[k].type || "").startsWith("image/tiff"));
  const band = (item.assets[key]["raster:bands"] || [{}])[0];
  const st = band.statistics;
  const rescale = st && isFinite(st.minimum) && isFinite(st.maximum) && st.maximum > st.minimum ? `&rescale=${st.minimum},${st.maximum}` : "";
  setRasterLayer("layer", `/tiles/${encodeURIComponent(item.collection)}/${encodeURIComponent(item.id)}/${encodeURIComponent(key)}/{z}/{x}/{y}.png?bidx=1&colormap=viridis${rescale}`, 0.8);
  if (item.bbox && !state.current) map.fitBounds([[item.bbox[0], item.bbox[1]], [item.bbox[2], item.bbox[3]]], { padding: 20, duration: 0 });
  document.getElementById("layer-note").textContent = `${item.collection} · ${(item.properties.datetime || "").slice(0, 10)}`;
}

async function selectIndicator(id) {
  const table = state.tables.find((t) => t.id === id);
  const fc = await getJSON(`/features/collections/${encodeURIComponent(id)}/items?limit=10000`);
  showDistricts(table, fc.features, fc.numberMatched);
  await showRaster(table);
}

// Districts and their figures on the map, the legend, the ranking and the downloads; `table` is a
// Features collection of the node or one a run made for this user (run_panel.js).
function showDistricts(table, features, count) {
  state.current = table;
  const fc = { features };
  state.features = fc.features;
  const idColumn = table["sco:id_column"] || "";
  const columns = numericColumns(fc.features, idColumn);
  const colSelect = document.getElementById("column");
  colSelect.innerHTML = columns.map((c) => `<option>${c}</option>`).join("");
  const preferred = ["exposed_residents", "exposed_fraction", "slope", "risk", "mean"].find((c) => columns.includes(c));
  colSelect.value = preferred || columns[0];
  const map = state.map;
  const data = { type: "FeatureCollection", features: fc.features };
  if (map.getSource("districts")) map.getSource("districts").setData(data);
  else {
    map.addSource("districts", { type: "geojson", data });
    map.addLayer({ id: "districts-fill", type: "fill", source: "districts", paint: { "fill-opacity": 0.65 } });
    map.addLayer({ id: "districts-line", type: "line", source: "districts", paint: { "line-color": "#222", "line-width": 0.6 } });
  }
  showColumn(colSelect.value);
  const b = table.extent.spatial.bbox[0];
  if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 20, duration: 0 });
  const links = table.links.filter((l) => l.rel === "describedby" || l.rel === "enclosure");
  document.getElementById("downloads").innerHTML = links.map((l) => `<a href="${l.href}">${l.title}</a>`).join("");
  // A trend table from too short a record has no slope: the map shows the series' mean and says why.
  const method = features.length ? features[0].properties.method : undefined;
  const note = typeof method === "string" && method.startsWith("record too short") ? ` · no trend: ${method}` : "";
  document.getElementById("summary").textContent = `${count} districts · ${table.description}${note}`;
}
window.scoShowDistricts = showDistricts;
window.scoState = state;  // for tests and the browser console

function showColumn(column) {
  state.column = column;
  const [lo, hi] = range(state.features, column);
  state.map.setPaintProperty("districts-fill", "fill-color", colourExpression(column, lo, hi));
  setLegend(column, lo, hi, state.current["sco:units"]);
  drawChart(column);
}

// Each district's series over the steps (zonal.trend tables), fetched once per table.
async function seriesOf(table) {
  const link = table.links.find((l) => l.rel === "related" && l.title === "series");
  if (!link) return null;
  state.series = state.series || {};
  if (!state.series[table.id]) state.series[table.id] = getJSON(link.href).catch(() => null);
  return state.series[table.id];
}

// The district's series as a line, with its Sen slope drawn through the series' median point.
function trendChart(el, doc, values, slope) {
  const xs = doc.dates.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
  const ys = values.map((v) => (v === null ? null : v));
  const series = [{}, { label: doc.statistic, stroke: "#2c718e", width: 2, points: { show: true, size: 4 } }];
  const data = [xs, ys];
  if (typeof slope === "number" && isFinite(slope)) {
    const perSecond = slope / ((doc.slope_per === "decade" ? 10 : 1) * 365.25 * 86400);
    const ok = xs.map((x, i) => [x, ys[i]]).filter(([, y]) => y !== null);
    const mx = ok.map(([x]) => x).sort((a, b) => a - b)[Math.floor(ok.length / 2)];
    const my = ok.map(([, y]) => y).sort((a, b) => a - b)[Math.floor(ok.length / 2)];
    data.push(xs.map((x) => my + perSecond * (x - mx)));
    series.push({ label: "Sen slope", stroke: "#d95f02", dash: [6, 4], width: 1.5, points: { show: false } });
  }
  new uPlot({ width: 280, height: 140, legend: { show: false }, scales: { x: { time: true } },
              axes: [{ size: 30 }, { size: 44 }], series }, data, el);
}

async function popup(e) {
  if (window.scoDrawing) return;  // clicks place the corners of an area being drawn (run_panel.js)
  const f = e.features[0];
  const p = f.properties;
  const rows = Object.entries(p).map(([k, v]) => {
    const cls = k === "class" || k === "significant" ? ` class="class-${v}"` : "";
    return `<tr><td>${k}</td><td${cls}>${fmt(typeof v === "string" && v !== "" && !isNaN(+v) ? +v : v)}</td></tr>`;
  }).join("");
  const report = state.current.links.find((l) => l.rel === "describedby");
  const table = state.current;
  const doc = await seriesOf(table);
  const values = doc && doc.series[p[doc.id_column]];
  const chart = values ? `<h3>${doc.statistic} per step, ${doc.dates[0]} – ${doc.dates[doc.dates.length - 1]}</h3><div class="popup-chart"></div>` : "";
  const box = new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(e.lngLat)
    .setHTML(`<div class="popup">${chart}<table>${rows}</table>${report ? `<p><a href="${report.href}">report</a></p>` : ""}</div>`)
    .addTo(state.map);
  if (values) trendChart(box.getElement().querySelector(".popup-chart"), doc, values, p.slope === undefined ? undefined : +p.slope);
}

async function main() {
  state.map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f5" } }] },
    center: [0, 20], zoom: 1, preserveDrawingBuffer: true, attributionControl: false,
  });
  window.scoMap = state.map;  // for tests and the browser console
  await new Promise((ok) => state.map.on("load", ok));
  state.map.on("click", "districts-fill", popup);
  state.map.on("mouseenter", "districts-fill", () => { state.map.getCanvas().style.cursor = "pointer"; });
  state.map.on("mouseleave", "districts-fill", () => { state.map.getCanvas().style.cursor = ""; });
  const list = await getJSON("/features/collections");
  state.tables = list.collections;
  const sel = document.getElementById("indicator");
  sel.innerHTML = state.tables.map((t) => `<option value="${t.id}">${t.title}</option>`).join("");
  sel.onchange = () => selectIndicator(sel.value);
  document.getElementById("column").onchange = (e) => showColumn(e.target.value);
  document.getElementById("raster").onchange = () => showRaster(state.current);
  const layers = await getJSON("/stac/collections");
  const ul = document.getElementById("layers");
  ul.innerHTML = layers.collections.map((c) => {
    const t = c.extent.temporal.interval[0];
    return `<li data-id="${c.id}">${c.title || c.id} <small>${t[0] ? t[0].slice(0, 10) : ""}${t[1] && t[1] !== t[0] ? "–" + t[1].slice(0, 10) : ""}</small></li>`;
  }).join("");
  ul.onclick = (ev) => { const li = ev.target.closest("li"); if (li) showLayer(li.dataset.id); };
  document.getElementById("dates").onchange = (ev) => showItem(state.layerItems[+ev.target.value]);
  if (state.tables.length) await selectIndicator(state.tables[0].id);
  document.body.dataset.ready = "1";
}

main().catch((e) => { document.getElementById("summary").textContent = "error: " + e.message; document.body.dataset.ready = "error"; });
