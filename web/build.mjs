// Builds dist/: the app's own files and the npm packages it uses (MapLibre GL JS, uPlot), copied so
// that sco serves everything itself, offline.
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("./dist/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out + "vendor", { recursive: true });
cpSync(new URL("./src/", import.meta.url).pathname, out, { recursive: true });
const vendor = [
  ["maplibre-gl/dist/maplibre-gl.js", "maplibre-gl.js"],
  ["maplibre-gl/dist/maplibre-gl.css", "maplibre-gl.css"],
  ["maplibre-gl/LICENSE.txt", "maplibre-gl.LICENSE.txt"],
  ["uplot/dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
  ["uplot/dist/uPlot.min.css", "uPlot.min.css"],
  ["uplot/LICENSE", "uplot.LICENSE.txt"],
];
for (const [from, to] of vendor) cpSync(new URL("./node_modules/" + from, import.meta.url).pathname, out + "vendor/" + to);
console.log("web: built " + out);
