// Headless Chromium (Debian's, through playwright-core from web/node_modules) for the web map's tests:
// a page that records page errors and every request leaving the node.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

export async function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
  });
}

// A 1200 x 800 page; `result.errors` gets its errors, the returned list the URLs outside `base`.
export async function watchedPage(browser, base, result) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on("pageerror", (e) => result.errors.push(String(e)));
  const external = [];
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith(base) && !u.startsWith("blob:") && !u.startsWith("data:")) external.push(u); });
  return { page, external };
}

// Opens the web map at `base` in a watched page, waits until it is ready, runs `steps(page, result)`,
// then prints `result` as one JSON line (with `errors` and the requests that left the node).
export async function driveMap(base, steps) {
  const browser = await launch();
  const result = { errors: [] };
  try {
    const { page, external } = await watchedPage(browser, base, result);
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    result.ready = await page.evaluate(() => document.body.dataset.ready);
    await steps(page, result);
    result.external = external;
  } catch (e) {
    result.errors.push(String(e));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}
