// Copies @simplewebauthn/browser's ES modules (and its licence) into the frontend, which has no build step:
// the pages import frontend/assets/js/vendor/simplewebauthn/index.js under `script-src 'self'` (docs/passkeys.md).
// Run it after changing the package's version: `node scripts/vendor-simplewebauthn.mjs`. A jest test
// (test/api/passkeys-vendor.test.ts) fails while the copy differs from node_modules.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SOURCE = path.join(ROOT, "node_modules", "@simplewebauthn", "browser");
export const TARGET = path.join(ROOT, "frontend", "assets", "js", "vendor", "simplewebauthn");

/** The files to vendor, relative to the package: every esm/**\/*.js (as <TARGET>/**\/*.js) and LICENSE.md. */
export function vendoredFiles() {
  const files = [{ from: "LICENSE.md", to: "LICENSE.md" }];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(SOURCE, "esm", dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith(".js")) files.push({ from: path.posix.join("esm", relative), to: relative });
    }
  };
  walk("");
  return files.sort((a, b) => a.to.localeCompare(b.to));
}

function main() {
  if (!fs.existsSync(path.join(SOURCE, "package.json"))) {
    console.error(`${path.relative(ROOT, SOURCE)} is missing: run npm install first`);
    process.exit(1);
  }
  const version = JSON.parse(fs.readFileSync(path.join(SOURCE, "package.json"), "utf8")).version;
  fs.rmSync(TARGET, { recursive: true, force: true });
  const files = vendoredFiles();
  for (const { from, to } of files) {
    fs.mkdirSync(path.dirname(path.join(TARGET, to)), { recursive: true });
    fs.copyFileSync(path.join(SOURCE, from), path.join(TARGET, to));
  }
  console.log(`Copied @simplewebauthn/browser ${version} (${files.length} files) to ${path.relative(ROOT, TARGET)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
