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
