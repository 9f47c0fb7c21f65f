// The pages' copy of @simplewebauthn/browser (frontend/assets/js/vendor/simplewebauthn/, docs/passkeys.md) is the
// installed package, file for file: after a version change, scripts/vendor-simplewebauthn.mjs must be run again.
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../backend/config";

const SOURCE = path.join(PROJECT_ROOT, "node_modules", "@simplewebauthn", "browser");
const TARGET = path.join(PROJECT_ROOT, "frontend", "assets", "js", "vendor", "simplewebauthn");
const FIX = "run `node scripts/vendor-simplewebauthn.mjs` (it copies node_modules/@simplewebauthn/browser/esm/**/*.js and LICENSE.md)";

function filesUnder(dir: string, keep: (name: string) => boolean, prefix = ""): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return filesUnder(path.join(dir, entry.name), keep, relative);
    return keep(entry.name) ? [relative] : [];
  });
}

/** target path → source path, as the script copies them. */
function expectedCopy(): Map<string, string> {
  const files = new Map<string, string>([["LICENSE.md", path.join(SOURCE, "LICENSE.md")]]);
  for (const file of filesUnder(path.join(SOURCE, "esm"), (name) => name.endsWith(".js"))) files.set(file, path.join(SOURCE, "esm", file));
  return files;
}

describe("the vendored @simplewebauthn/browser", () => {
  it("is the installed version the server's major matches", () => {
    const browser = JSON.parse(fs.readFileSync(path.join(SOURCE, "package.json"), "utf8")).version as string;
    const server = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@simplewebauthn", "server", "package.json"), "utf8")).version as string;
    expect(browser.split(".")[0]).toBe(server.split(".")[0]);
  });

  it("has exactly the package's files", () => {
    const expected = [...expectedCopy().keys()].sort();
    const actual = filesUnder(TARGET, () => true).sort();
    expect(expected.length).toBeGreaterThan(10);
    const missing = expected.filter((f) => !actual.includes(f));
    const extra = actual.filter((f) => !expected.includes(f));
    if (missing.length || extra.length) {
      throw new Error(`frontend/assets/js/vendor/simplewebauthn differs from node_modules (missing: ${missing.join(", ") || "none"}; extra: ${extra.join(", ") || "none"}): ${FIX}`);
    }
  });

  it("has the package's bytes in every file", () => {
    const changed = [...expectedCopy()].filter(([to, from]) => !fs.existsSync(path.join(TARGET, to)) || !fs.readFileSync(path.join(TARGET, to)).equals(fs.readFileSync(from)));
    if (changed.length) throw new Error(`these vendored files differ from node_modules: ${changed.map(([to]) => to).join(", ")}: ${FIX}`);
  });

  it("imports only relative modules, so it runs from a static host under script-src 'self'", () => {
    for (const file of filesUnder(TARGET, (name) => name.endsWith(".js"))) {
      const source = fs.readFileSync(path.join(TARGET, file), "utf8");
      for (const [, specifier] of source.matchAll(/(?:import|export)[^'"]*from\s*['"]([^'"]+)['"]/g)) {
        expect({ file, specifier, relative: specifier.startsWith("./") || specifier.startsWith("../") }).toEqual({ file, specifier, relative: true });
      }
    }
  });
});
