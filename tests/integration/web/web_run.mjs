// Drives the web map's "Run an indicator on your own area" panel in headless Chromium (Debian's,
// through playwright-core from npm): logs in, picks sco_urban_ndbi, the scene's collection, uploads
// the districts as a GeoJSON file, sets the sensor, runs, waits for the job to finish, and reads
// what the map then shows. Prints one JSON line; the Python test judges it.
// Usage: node web_run.mjs BASE_URL USER PASSWORD DISTRICTS.geojson SCREENSHOT.png
import { driveMap } from "./browser.mjs";

const [base, user, password, districts, shot] = process.argv.slice(2);
await driveMap(base, async (page, result) => {
  await page.click("#runner summary");
  await page.fill("#run-user", user);
  await page.fill("#run-password", "not the password");
  await page.click("#run-login");
  await page.waitForFunction(() => document.getElementById("run-status").textContent.includes("wrong"), null, { timeout: 15000 });
  result.wrongPassword = await page.evaluate(() => document.getElementById("run-status").textContent);
  await page.fill("#run-password", password);
  await page.click("#run-login");
  await page.waitForSelector("#run-form:not([hidden])", { timeout: 15000 });
  result.processes = await page.evaluate(() => [...document.getElementById("run-process").options].map((o) => o.value));
  await page.selectOption("#run-process", "sco_urban_ndbi");
  await page.selectOption("#run-in-scene", "landsat7-olinda");
  await page.setInputFiles("#run-area", districts);
  await page.fill("#run-p-sensor", "landsat7");
  await page.click("#run-start");
  await page.waitForFunction(() => document.body.dataset.run === "done" || /refused|error/.test(document.getElementById("run-status").textContent),
                             null, { timeout: 180000 });
  result.status = await page.evaluate(() => document.getElementById("run-status").textContent);
  result.log = await page.evaluate(() => [...document.querySelectorAll("#run-log li")].map((li) => li.textContent));
  result.progress = await page.evaluate(() => document.getElementById("run-progress").value);
  await page.waitForFunction(() => window.scoMap.loaded(), null, { timeout: 30000 });
  result.values = await page.evaluate(() => Object.fromEntries(window.scoState.features.map((f) => [f.properties.fid, f.properties.mean])));
  result.rendered = await page.evaluate(() => window.scoMap.queryRenderedFeatures({ layers: ["districts-fill"] }).length);
  result.legend = await page.evaluate(() => document.getElementById("legend").textContent);
  result.downloads = await page.evaluate(() => [...document.querySelectorAll("#downloads a")].map((a) => a.textContent));
  result.report = await page.evaluate(async () => {
    const a = [...document.querySelectorAll("#downloads a")].find((x) => x.textContent === "report");
    return a ? (await (await fetch(a.href)).text()).slice(0, 2000) : "";
  });
  await page.screenshot({ path: shot });
  // A second run over an area drawn freehand: four corners of a quadrilateral around the canvas'
  // centre, then a click on the first corner closes it.
  await page.evaluate(() => { document.body.dataset.run = ""; });
  await page.click("#run-draw");
  const box = await page.evaluate(() => { const r = window.scoMap.getCanvas().getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  for (const [fx, fy] of [[0.4, 0.4], [0.62, 0.42], [0.58, 0.6], [0.42, 0.55], [0.4, 0.4]]) {
    await page.mouse.click(box.x + box.w * fx, box.y + box.h * fy);
    await new Promise((r) => setTimeout(r, 400));  // apart, so that no two clicks make a double click
  }
  await page.waitForFunction(() => window.scoRun.drawn !== null, null, { timeout: 10000 });
  result.drawn = await page.evaluate(() => window.scoRun.drawn);
  await page.click("#run-start");
  await page.waitForFunction(() => document.body.dataset.run === "done" || /refused|error/.test(document.getElementById("run-status").textContent),
                             null, { timeout: 180000 });
  result.drawnStatus = await page.evaluate(() => document.getElementById("run-status").textContent);
  result.drawnValues = await page.evaluate(() => window.scoState.features.map((f) => f.properties));
});
