// Browser tests of the doctor page (frontend/doctor.html): its verdicts from a same-site and a cross-site page,
// the blocked-cookie verdict without Partitioned, and a CORS refusal told apart from an API that is down.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { freePort } from "../lib/api-process.mjs";
import { suiteTimeLeft } from "../lib/suite.mjs";
import { ACTION_TIMEOUT_MS, checkPages, httpTopology, inspect, launchBrowser, open, startE2eApi, startFrontend, TEST_TIMEOUT_MS } from "./harness.mjs";

/** Waits until a list of checks says it is done, and returns its lines as { check, status, text }. */
async function verdicts(page, listId, what) {
  try {
    await page.waitForFunction((id) => document.getElementById(id)?.dataset.state === "done", listId, { timeout: ACTION_TIMEOUT_MS, polling: 100 });
  } catch {
    throw new Error(`${what}: #${listId} never finished (state ${await page.locator(`#${listId}`).getAttribute("data-state")})`);
  }
  return page.locator(`#${listId} [data-check]`).evaluateAll((lines) =>
    lines.map((line) => ({ check: line.dataset.check, status: line.dataset.status, text: line.innerText.replace(/\s+/g, " ").trim() })),
  );
}

/** The line `check` of `lines`, asserted to have `status` and text matching `pattern`. */
function expectLine(lines, check, status, pattern, what) {
  const line = lines.find((l) => l.check === check);
  assert(line, `${what}: no "${check}" line; the page shows ${JSON.stringify(lines)}`);
  assert.equal(line.status, status, `${what}: "${check}" should be ${status}: ${line.text}`);
  assert.match(line.text, pattern, `${what}: "${check}"`);
  return line;
}

/** Fills the login form and submits it by keyboard; resolves to the login check's lines. */
async function checkLogin(page, uid, password, what) {
  await page.getByLabel("GitHub ID").fill(uid);
  await page.getByLabel("Password").fill(password);
  await page.keyboard.press("Enter");
  const lines = await verdicts(page, "doctor-login-checks", what);
  assert.equal(await page.locator("#doctor-password").inputValue(), "", `${what}: the password field should be emptied`);
  return lines;
}

/** Records the methods of the requests the page sends to the API, to prove what happens on load. */
function apiMethods(page, apiBase) {
  const methods = [];
  page.on("request", (request) => {
    if (request.url().startsWith(apiBase)) methods.push(request.method());
  });
  return methods;
}

describe("doctor page", { timeout: suiteTimeLeft() }, () => {
  afterEach(checkPages);

  test("doctor: same-site page (localhost → localhost): read-only checks on load, then login, cookie, logout all ✔", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await httpTopology(t, { pageHost: "localhost", apiHost: "localhost" });
    const { context, page } = await launchBrowser(t, { name: "doctor-same-site" });
    const methods = apiMethods(page, apiBase);
    await open(page, base, "index.html");
    await page.getByRole("link", { name: "Run the doctor" }).click();
    await page.waitForURL(/\/doctor\.html$/);

    const checks = await verdicts(page, "doctor-checks", "same-site checks");
    expectLine(checks, "api-url", "ok", /from this page's <meta name="api-uri"/, "same-site");
    expectLine(checks, "relation", "ok", /same site, another origin/, "same-site");
    expectLine(checks, "transport", "ok", /loopback/, "same-site");
    expectLine(checks, "health", "ok", /200 \(database ok, redis off\)/, "same-site");
    expectLine(checks, "preflight", "ok", /accepted; GET \/api\/id answered 401 TOKEN_MISSING/, "same-site");
    expectLine(checks, "third-party-cookies", "ok", /first-party/, "same-site");
    assert.deepEqual([...new Set(methods)].filter((m) => !["GET", "OPTIONS"].includes(m)), [], "nothing but reads may happen on load");
    await inspect(page, "doctor-same-site");

    const login = await checkLogin(page, "user", "password", "same-site login");
    expectLine(login, "login", "ok", /accepted the password/, "same-site");
    expectLine(login, "cookie", "ok", /kept it and sent it back as a first-party cookie: GET \/api\/id 200 \(user\)/, "same-site");
    expectLine(login, "logout", "ok", /no session is left/, "same-site");
    assert.equal((await context.cookies(apiBase)).length, 0, "the doctor's login must leave no cookie behind");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "doctor-login-checks", "focus moves to the results");
  });

  test("doctor: cross-site page (127.0.0.1 → localhost) with Partitioned: classified cross-site, the cookie comes back", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base, apiBase } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost" });
    const { context, page } = await launchBrowser(t, { name: "doctor-cross-site" });
    await open(page, base, "doctor.html");

    const checks = await verdicts(page, "doctor-checks", "cross-site checks");
    expectLine(checks, "relation", "ok", /cross-site: the API's cookie is a third-party cookie here/, "cross-site");
    expectLine(checks, "health", "ok", /200/, "cross-site");
    expectLine(checks, "third-party-cookies", "ok", /document\.hasStorageAccess\(\): (true|false)/, "cross-site");

    const login = await checkLogin(page, "user", "password", "cross-site login");
    expectLine(login, "cookie", "ok", /as a Partitioned cookie kept for this site/, "cross-site");
    expectLine(login, "logout", "ok", /no session is left/, "cross-site");
    assert.equal((await context.cookies(apiBase)).length, 0, "the doctor's login must leave no cookie behind");
    await inspect(page, "doctor-cross-site");
  });

  test("doctor: cross-site page with COOKIE_PARTITIONED=false: ✖ for the cookie, with the Partitioned fix", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { base } = await httpTopology(t, { pageHost: "127.0.0.1", apiHost: "localhost", env: { COOKIE_PARTITIONED: "false" } });
    const { page } = await launchBrowser(t, { name: "doctor-unpartitioned" });
    await open(page, base, "doctor.html");
    await verdicts(page, "doctor-checks", "unpartitioned checks");

    const login = await checkLogin(page, "user", "password", "unpartitioned login");
    expectLine(login, "login", "ok", /accepted the password/, "unpartitioned");
    const cookie = expectLine(login, "cookie", "fail", /blocked the login cookie.*cross-site to the API/, "unpartitioned");
    assert.match(cookie.text, /COOKIE_PARTITIONED=true/, "the fix names COOKIE_PARTITIONED");
    await inspect(page, "doctor-unpartitioned");
  });

  test("doctor: tells an origin the API refuses (CORS) apart from an API that is down", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const apiPort = await freePort();
    const refusingFrontend = await startFrontend(t, { apiUrl: `http://localhost:${apiPort}` });
    await startE2eApi(t, { port: apiPort, origins: ["http://localhost:1"] });
    const downFrontend = await startFrontend(t, { apiUrl: `http://localhost:${await freePort()}` });
    const { page } = await launchBrowser(t, { name: "doctor-refused" });

    await open(page, `http://localhost:${refusingFrontend}`, "doctor.html");
    const refused = await verdicts(page, "doctor-checks", "refused origin");
    const health = expectLine(refused, "health", "fail", /the API answers, but does not let this page/, "refused origin");
    assert.match(health.text, new RegExp(`add http://localhost:${refusingFrontend} to the API's ALLOWED_ORIGINS`), "the fix names ALLOWED_ORIGINS");
    assert(!refused.some((line) => line.check === "preflight"), "one clear ✖: no preflight line after a refusal");
    await inspect(page, "doctor-refused-origin");

    await open(page, `http://localhost:${downFrontend}`, "doctor.html");
    const down = await verdicts(page, "doctor-checks", "API down");
    expectLine(down, "health", "fail", /no answer at all: the API is down/, "API down");
  });
});
