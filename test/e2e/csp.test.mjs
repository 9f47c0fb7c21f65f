// Browser test of the pages' Content-Security-Policy: every page carries it in a <meta> tag, which protects
// the pages on its own (served here without the server's header, as GitHub Pages would), and no page
// reports a violation, logged out or logged in as an admin (the harness fails a test on any violation).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { ROOT } from "../lib/api-process.mjs";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { ACTION_TIMEOUT_MS, checkPages, expectProfile, httpTopology, launchBrowser, logIn, TEST_TIMEOUT_MS } from "./harness.mjs";

const PAGES = fs.readdirSync(path.join(ROOT, "frontend")).filter((file) => file.endsWith(".html")).sort();

/** The page's CSP meta tags, where they sit, and the directives of the first. */
function readMetaPolicy(page) {
  return page.evaluate(() => {
    const metas = [...document.querySelectorAll("meta[http-equiv]")].filter((m) => m.httpEquiv.toLowerCase() === "content-security-policy");
    const first = metas[0];
    // A meta policy only covers what the parser meets after it.
    const earlier = first ? [...document.head.querySelectorAll("script, link, style")].filter((el) => el.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) : [];
    const directives = {};
    for (const part of (first?.content ?? "").split(";")) {
      const [name, ...values] = part.trim().split(/\s+/);
      if (name) directives[name.toLowerCase()] = values;
    }
    return { count: metas.length, inHead: Boolean(first && first.parentElement === document.head), loadedBefore: earlier.map((el) => el.outerHTML.slice(0, 80)), directives };
  });
}

describe("content security policy", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("every page carries a CSP meta tag that is enforced without the header, and no page reports a violation (logged out, logged in)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    assert(PAGES.length >= 6, `only ${PAGES.length} pages found in frontend/`);
    const { base } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost", cspHeader: false });
    const { page } = await launchBrowser(t, { name: "csp" });

    for (const state of ["logged out", "logged in as admin"]) {
      if (state === "logged in as admin") {
        await logIn(page, base, "admin", "password");
        await expectProfile(page, "admin", "admin login for the CSP check");
      }
      for (const file of PAGES) {
        const problemsBefore = page.problems.length;
        const response = await page.goto(`${base}/${file}`, { waitUntil: "load" });
        assert.equal(response.status(), 200, `${file}: status`);
        assert.equal(response.headers()["content-security-policy"], undefined, `${file}: served with a CSP header, so the meta tag is not what is tested`);
        // Let the page's own requests (session, doctor checks) finish, so their violations would show.
        await page.waitForLoadState("networkidle", { timeout: ACTION_TIMEOUT_MS }).catch(() => {});
        const meta = await readMetaPolicy(page);
        const where = `${file} (${state})`;
        assert.equal(meta.count, 1, `${where}: ${meta.count} CSP meta tags`);
        assert(meta.inHead, `${where}: the CSP meta tag is not in <head>`);
        assert.deepEqual(meta.loadedBefore, [], `${where}: loaded before the CSP meta tag`);
        const scripts = meta.directives["script-src"] ?? meta.directives["default-src"];
        assert(scripts && !scripts.some((v) => /^'unsafe-(inline|eval)'$|^\*$|^data:$/.test(v)), `${where}: script-src allows ${JSON.stringify(scripts)}`);
        assert.deepEqual(meta.directives["object-src"], ["'none'"], `${where}: object-src`);
        assert(meta.directives["base-uri"], `${where}: no base-uri`);
        const reported = page.problems.slice(problemsBefore);
        assert.deepEqual(reported, [], `${where}: problems reported`);
      }
    }

    // The meta tag alone is enforced, and a violation is noticed: an injected inline script is refused.
    await page.goto(`${base}/index.html`, { waitUntil: "load" });
    const problemsBefore = page.problems.length;
    const ran = await page.evaluate(async () => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineScriptRan = true;";
      document.head.append(script);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return Boolean(window.__inlineScriptRan);
    });
    assert.equal(ran, false, "an injected inline script ran: the meta CSP is not enforced");
    const deadline = Date.now() + ACTION_TIMEOUT_MS;
    while (!page.problems.slice(problemsBefore).some((p) => /Content Security Policy/.test(p)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The expected violation is taken off the list, so checkPages judges the rest.
    const probe = page.problems.splice(problemsBefore);
    assert(probe.some((p) => /Content Security Policy/.test(p)), `the refused inline script was not reported: ${JSON.stringify(probe)}`);
  });
});
