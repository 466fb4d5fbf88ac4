// One session of the official openEO JavaScript client (@openeo/js-client, pinned in
// tests/tools/package.json) against a sco node: connect, log in with Basic, list collections and
// processes, and compute synchronously an NDVI, a temporal mean and an aggregate_spatial mean, each
// saved to a file for openeo_js_client_test.py to check. Prints a JSON summary.
// Usage: node js_client_session.js ROOT USER PASSWORD GEOJSON_FILE OUT_DIR
const fs = require("fs");
const path = require("path");
const { OpenEO } = require("@openeo/js-client");

async function save(con, builder, node, format, file) {
  const saved = builder.save_result(node, format);
  const graph = saved;  // the final node: the client marks it as the graph's result
  let result;
  try {
    result = await con.computeResult(graph);
  } catch (e) {
    let body = "";
    if (e.response && e.response.data && e.response.data.on) {
      for await (const chunk of e.response.data) body += chunk.toString();
    }
    throw new Error(`${file}: ${e.code || ""} ${e.message} ${body} for ${JSON.stringify(graph)}`);
  }
  const chunks = [];
  for await (const chunk of result.data) chunks.push(Buffer.from(chunk));
  fs.writeFileSync(file, Buffer.concat(chunks));
  return result.type;
}

(async () => {
  const [root, user, password, geojson, out] = process.argv.slice(2);
  const con = await OpenEO.connect(root);
  const summary = { api_version: con.capabilities().apiVersion() };
  await con.authenticateBasic(user, password);
  summary.user = (await con.describeAccount()).user_id;
  summary.collections = (await con.listCollections()).collections.map((c) => c.id);
  summary.processes = (await con.listProcesses()).processes.map((p) => p.id);
  const box = { west: -34.88, south: -8.03, east: -34.84, north: -7.99 };

  let b = await con.buildProcess();
  summary.ndvi_type = await save(con, b, b.ndvi(b.load_collection("landsat7-olinda", box, null, ["B3", "B4"])), "GTiff", path.join(out, "ndvi.tif"));

  b = await con.buildProcess();
  const series = b.load_collection("series", null, null, ["B4"]);
  const mean = b.reduce_dimension(series, function (data) { return this.mean(data); }, "t");
  summary.mean_type = await save(con, b, mean, "GTiff", path.join(out, "mean.tif"));

  b = await con.buildProcess();
  const tracts = JSON.parse(fs.readFileSync(geojson, "utf8"));
  const zonal = b.aggregate_spatial(b.load_collection("landsat7-olinda", null, null, ["B4"]), tracts, function (data) { return this.mean(data); });
  summary.zonal_type = await save(con, b, zonal, "JSON", path.join(out, "zonal.json"));
  console.log(JSON.stringify(summary));
})().catch((e) => {
  console.error(e && e.message ? e.message : e);
  process.exit(1);
});
