// Drives the web map in headless Chromium (Debian's, through playwright-core from npm): waits for
// the indicator layer, clicks a district, and checks the popup and the map's pixels; then a trend
// indicator's popup chart, and a catalog layer's date list. Prints one JSON
// line with what it saw; the Python test judges it.
// Usage: node web_map.mjs BASE_URL SCREENSHOT.png
import { driveMap } from "./browser.mjs";

const [base, shot] = process.argv.slice(2);
// In the page: the screen point at the middle of the first rendered district's outer ring.
const firstDistrictPoint = () => {
  const f = window.scoMap.queryRenderedFeatures({ layers: ["districts-fill"] })[0];
  const ring = f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
  let x = 0, y = 0;
  for (const c of ring) { x += c[0]; y += c[1]; }
  const p = window.scoMap.project([x / ring.length, y / ring.length]);
  const box = window.scoMap.getCanvas().getBoundingClientRect();
  return { x: box.left + p.x, y: box.top + p.y };
};
await driveMap(base, async (page, result) => {
  await page.waitForFunction(() => window.scoMap && window.scoMap.loaded() && window.scoMap.areTilesLoaded(), null, { timeout: 60000 });
  result.indicator = await page.evaluate(() => document.getElementById("indicator").value);
  result.options = await page.evaluate(() => [...document.getElementById("indicator").options].map((o) => o.value));
  result.legend = await page.evaluate(() => document.getElementById("legend").textContent);
  result.rendered = await page.evaluate(() => window.scoMap.queryRenderedFeatures({ layers: ["districts-fill"] }).length);
  result.raster = await page.evaluate(() => !!window.scoMap.getLayer("raster"));
  // Click the middle of the first rendered district.
  const point = await page.evaluate(firstDistrictPoint);
  await page.mouse.click(point.x, point.y);
  await page.waitForSelector(".maplibregl-popup", { timeout: 10000 });
  result.popup = await page.evaluate(() => document.querySelector(".maplibregl-popup").textContent);
  // Pixels of the map canvas: how many differ from the empty background.
  result.painted = await page.evaluate(() => {
    const src = window.scoMap.getCanvas();
    const c = document.createElement("canvas");
    c.width = src.width; c.height = src.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0xee) + Math.abs(d[i + 1] - 0xf2) + Math.abs(d[i + 2] - 0xf5) > 30) n++;
    return n / (d.length / 4);
  });
  result.chart = await page.evaluate(() => !!document.querySelector("#chart canvas"));
  await page.screenshot({ path: shot });
  // A trend indicator: the popup draws the district's series (and its Sen slope when the record holds one).
  const trend = result.options.find((o) => o.includes("trend"));
  if (trend) {
    await page.evaluate(() => document.querySelectorAll(".maplibregl-popup").forEach((p) => p.remove()));
    await page.selectOption("#indicator", trend);
    await page.waitForFunction((t) => document.getElementById("summary").textContent.includes("districts") &&
                                      window.scoMap.getSource("districts") && document.getElementById("indicator").value === t, trend, { timeout: 30000 });
    await page.waitForFunction(() => {
      const f = window.scoMap.queryRenderedFeatures({ layers: ["districts-fill"] });
      return window.scoMap.loaded() && f.length > 0 && "method" in f[0].properties;
    }, null, { timeout: 30000 });
    const p2 = await page.evaluate(firstDistrictPoint);
    await page.mouse.click(p2.x, p2.y);
    await page.waitForSelector(".maplibregl-popup .popup-chart canvas", { timeout: 10000 });
    result.trendPopup = await page.evaluate(() => {
      const el = document.querySelector(".maplibregl-popup");
      return { text: el.textContent, canvas: el.querySelectorAll(".popup-chart canvas").length,
               summary: document.getElementById("summary").textContent, column: document.getElementById("column").value };
    });
    await page.screenshot({ path: shot.replace(/\.png$/, "-trend.png") });
  }
  // A catalog layer with several dates: the date list, and the chosen date's tiles.
  const layerIds = await page.evaluate(() => [...document.querySelectorAll("#layers li")].map((li) => li.dataset.id));
  if (layerIds.includes("scenes")) {
    await page.click('#layers li[data-id="scenes"]');
    await page.waitForFunction(() => !document.getElementById("dates").hidden && window.scoMap.getLayer("layer"), null, { timeout: 15000 });
    result.dates = await page.evaluate(() => [...document.getElementById("dates").options].map((o) => o.textContent));
    await page.selectOption("#dates", "0");
    await page.waitForFunction(() => document.getElementById("layer-note").textContent.includes("2021-03-01"), null, { timeout: 15000 });
    result.layerNote = await page.evaluate(() => document.getElementById("layer-note").textContent);
    result.layerTiles = await page.evaluate(() => window.scoMap.getStyle().sources.layer.tiles[0]);
  }
});
