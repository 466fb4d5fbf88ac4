// "Run an indicator on your own area": a local user logs in (a `sco user` of the node), picks one of
// sco's indicators, the catalog collections it reads, their districts (an area drawn on the map, a
// GeoJSON file, or a district table of the node) and its parameters, and starts it. It runs as an openEO batch job of this same
// node (/openeo/1.2: the graph load_collection -> sco_INDICATOR -> save_result); the panel follows
// its progress and log, then shows the district figures on the map, with the run's report.
"use strict";

const API = "/openeo/1.2";
const run = { token: null, processes: [], collections: [], drawn: null };
window.scoRun = run;  // for tests and the browser console

function bearer(extra) {
  return Object.assign({ Authorization: "Bearer basic//" + run.token }, extra || {});
}

async function api(path, options) {
  const r = await fetch(API + path, Object.assign({}, options, { headers: bearer((options || {}).headers) }));
  if (!r.ok) {
    let why = r.status + "";
    try { const e = await r.json(); why = `${e.code}: ${e.message}`; } catch (_) { /* not JSON */ }
    throw new Error(why);
  }
  return r;
}

function status(text) { document.getElementById("run-status").textContent = text; }

async function login() {
  const user = document.getElementById("run-user").value, password = document.getElementById("run-password").value;
  const r = await fetch(API + "/credentials/basic", { headers: { Authorization: "Basic " + btoa(user + ":" + password) } });
  if (!r.ok) { status("the name or the password is wrong"); return; }
  run.token = (await r.json()).access_token;
  run.processes = (await (await api("/processes")).json()).processes.filter((p) => p.id.startsWith("sco_"));
  run.collections = (await (await api("/collections")).json()).collections;
  const sel = document.getElementById("run-process");
  sel.innerHTML = run.processes.map((p) => `<option value="${p.id}">${p.summary}</option>`).join("");
  sel.onchange = () => describe(sel.value);
  const tables = (await (await fetch("/features/collections")).json()).collections;
  document.getElementById("run-table").innerHTML = `<option value="">—</option>` + tables.map((t) => `<option value="${t.id}">${t.title}</option>`).join("");
  document.getElementById("run-login-form").hidden = true;
  document.getElementById("run-form").hidden = false;
  describe(sel.value);
  status(`logged in as ${user}`);
}

// The chosen indicator's inputs (a collection each) and parameters (with their defaults).
function describe(id) {
  const p = run.processes.find((x) => x.id === id);
  const cubes = p.parameters.filter((q) => q.schema && q.schema.subtype === "datacube");
  const options = run.collections.map((c) => `<option value="${c.id}">${c.title || c.id}</option>`).join("");
  document.getElementById("run-inputs").innerHTML = cubes.map((q) =>
    `<label for="run-in-${q.name}">${q.description.split(":")[0]}</label><select id="run-in-${q.name}" data-name="${q.name}">${options}</select>`).join("");
  const params = p.parameters.filter((q) => !(q.schema && q.schema.subtype) && q.name !== "id_field");
  document.getElementById("run-params").innerHTML = params.map((q) =>
    `<label for="run-p-${q.name}">${q.description}</label><input id="run-p-${q.name}" data-name="${q.name}" data-type="${q.schema.type}" value="${q.default ?? ""}">`).join("");
}

// The drawn area on the map (a line while it is drawn, the closed polygon after).
function show(geometry) {
  const map = window.scoMap;
  const data = { type: "Feature", properties: {}, geometry };
  if (map.getSource("drawn")) map.getSource("drawn").setData(data);
  else {
    map.addSource("drawn", { type: "geojson", data });
    map.addLayer({ id: "drawn-line", type: "line", source: "drawn", paint: { "line-color": "#d95f02", "line-width": 2, "line-dasharray": [2, 1] } });
  }
}

// An area drawn freehand: a click per corner; a click on the first corner (within 10 pixels) or a
// double click closes it (3 corners at least); Escape gives up.
function draw() {
  const map = window.scoMap;
  const corners = [];
  run.drawn = null;
  status("click the corners of your area on the map; click the first corner again (or double-click) to close it");
  map.getCanvas().style.cursor = "crosshair";
  map.doubleClickZoom.disable();
  window.scoDrawing = true;
  const stop = () => {
    window.scoDrawing = false;
    map.off("click", onClick);
    map.off("dblclick", onClose);
    window.removeEventListener("keydown", onKey);
    map.getCanvas().style.cursor = "";
    setTimeout(() => map.doubleClickZoom.enable(), 0);
  };
  const close = () => {
    if (corners.length < 3) return status("an area needs at least 3 corners");
    stop();
    const ring = [...corners, corners[0]];
    run.drawn = { type: "FeatureCollection", features: [{ type: "Feature", id: "area", properties: { name: "drawn area" },
      geometry: { type: "Polygon", coordinates: [ring] } }] };
    show(run.drawn.features[0].geometry);
    document.getElementById("run-drawn").textContent = `area: ${corners.length} corners`;
    status("area drawn");
  };
  const onClick = (e) => {
    if (corners.length >= 3) {
      const first = map.project(corners[0]);
      if (Math.hypot(first.x - e.point.x, first.y - e.point.y) <= 10) return close();
    }
    corners.push([e.lngLat.lng, e.lngLat.lat]);
    show({ type: "LineString", coordinates: corners.length > 1 ? corners : [corners[0], corners[0]] });
  };
  const onClose = (e) => { e.preventDefault(); close(); };
  const onKey = (e) => { if (e.key === "Escape") { stop(); status("drawing given up"); } };
  map.on("click", onClick);
  map.on("dblclick", onClose);
  window.addEventListener("keydown", onKey);
}

async function districts() {
  if (run.drawn) return run.drawn;
  const file = document.getElementById("run-area").files[0];
  if (file) return JSON.parse(await file.text());
  const table = document.getElementById("run-table").value;
  if (!table) throw new Error("choose your districts: a GeoJSON file or a district table");
  const fc = await (await fetch(`/features/collections/${encodeURIComponent(table)}/items?limit=10000`)).json();
  return { type: "FeatureCollection", features: fc.features };
}

function graph(processId, geometries) {
  const g = {};
  const args = { geometries };
  document.querySelectorAll("#run-inputs select").forEach((s) => {
    g["load_" + s.dataset.name] = { process_id: "load_collection", arguments: { id: s.value, spatial_extent: null, temporal_extent: null } };
    args[s.dataset.name] = { from_node: "load_" + s.dataset.name };
  });
  document.querySelectorAll("#run-params input").forEach((i) => {
    if (i.value === "") return;
    args[i.dataset.name] = i.dataset.type === "number" ? +i.value : i.dataset.type === "boolean" ? i.value === "true" : i.value;
  });
  g.indicator = { process_id: processId, arguments: args };
  g.save = { process_id: "save_result", arguments: { data: { from_node: "indicator" }, format: "GeoJSON" }, result: true };
  return g;
}

async function start() {
  const processId = document.getElementById("run-process").value;
  const title = document.getElementById("run-process").selectedOptions[0].textContent;
  try {
    const body = { title, process: { process_graph: graph(processId, await districts()) } };
    const created = await api("/jobs", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    const id = created.headers.get("OpenEO-Identifier");
    await api(`/jobs/${id}/results`, { method: "POST" });
    status("queued");
    await follow(id, title);
  } catch (e) {
    status("refused: " + e.message);
  }
}

// Polls the job (status, progress, log) until it ends; then its results on the map.
async function follow(id, title) {
  const bar = document.getElementById("run-progress");
  bar.hidden = false;
  for (;;) {
    const job = await (await api(`/jobs/${id}`)).json();
    const logs = (await (await api(`/jobs/${id}/logs`)).json()).logs;
    document.getElementById("run-log").innerHTML = logs.map((l) => `<li>${l.message}</li>`).join("");
    bar.value = job.progress || 0;
    status(job.status);
    if (job.status === "finished") return showResults(id, title);
    if (job.status === "error" || job.status === "canceled") return;
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

async function showResults(id, title) {
  const item = await (await api(`/jobs/${id}/results`)).json();
  const assets = Object.entries(item.assets);
  const table = assets.find(([k]) => k.endsWith(".geojson"));
  const fc = await (await fetch(table[1].href, { headers: bearer() })).json();
  const links = [];
  for (const [key, a] of assets.filter(([k]) => k.endsWith(".html"))) {  // the report, fetched with the token
    const blob = await (await fetch(a.href, { headers: bearer() })).blob();
    links.push({ rel: "describedby", href: URL.createObjectURL(blob), title: key.replace(".html", "") });
  }
  links.push({ rel: "enclosure", href: URL.createObjectURL(new Blob([JSON.stringify(fc)], { type: "application/geo+json" })), title: "GeoJSON" });
  const b = item.bbox || [];
  window.scoShowDistricts({ id, title, description: title + " (your run)", links, extent: { spatial: { bbox: [b] } } }, fc.features, fc.features.length);
  status(`finished: ${fc.features.length} districts`);
  document.body.dataset.run = "done";
}

document.getElementById("run-login").onclick = () => login().catch((e) => status("error: " + e.message));
document.getElementById("run-start").onclick = start;
document.getElementById("run-draw").onclick = draw;
