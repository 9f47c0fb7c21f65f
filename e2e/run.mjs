// Real-browser tests (SPEC §8): Debian's Chromium, driven by playwright-core, uses the real pages against a
// real API process (dist/backend/server.js, built by `npm run build`) in the topologies of SPEC §2.
// Usage: node e2e/run.mjs [name filter]. Prints one line per test, then `RESULT passed=N failed=M`.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { apiEnv, freePort, ROOT, SERVER_ENTRY as API_ENTRY, spawnApi, stopApi, waitForHealth } from "../scripts/api-process.mjs";

const RESULTS_DIR = path.join(ROOT, "test-results");
const FRONTEND_SERVER = path.join(ROOT, "dist", "backend", "frontend-server.js");
const FRONTEND_ROOT = path.join(ROOT, "frontend");

const TEST_TIMEOUT_MS = 120_000;
const API_START_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 10_000;
const NAVIGATION_TIMEOUT_MS = 15_000;

// A fresh profile is the point: it has Chromium's default cookie settings, which block unpartitioned
// third-party cookies. The resolver rule keeps every request on this machine (anything not mapped to
// loopback fails to resolve), so the tests never touch the network.
const BASE_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
];

function findChromium() {
  // An explicit CHROMIUM_PATH is used or refused, never silently replaced by another browser.
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) {
    throw new Error(
      `No Chromium found (looked at ${candidates.join(", ")}). Install Debian's: ` +
        "`sudo apt-get install -y chromium`, or set CHROMIUM_PATH to a Chromium/Chrome binary.",
    );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Resources. Every test gets a scope; whatever it starts is registered there and torn down in reverse
// order when the test ends, whether it passed, failed or timed out.

class Scope {
  #cleanups = [];
  pages = [];
  apis = [];

  defer(cleanup) {
    this.#cleanups.push(cleanup);
  }

  async close() {
    for (const cleanup of this.#cleanups.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(cleanup), 10_000, "cleanup");
      } catch (error) {
        console.error(`  (cleanup failed: ${error.message})`);
      }
    }
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function tempDir(scope, prefix) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `crossauth-e2e-${prefix}-`));
  scope.defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `node dist/backend/server.js` on 127.0.0.1:<port> with its own database, and waits for /api/health. */
async function startApi(scope, { port, origins, env = {} }) {
  const dir = await tempDir(scope, "api");
  const server = spawnApi(
    apiEnv({
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: `file:${path.join(dir, "e2e.db")}`,
      JWT_SECRET: randomBytes(48).toString("base64url"),
      ALLOWED_ORIGINS: origins.join(","),
      RATE_LIMIT_LOGIN_PER_IP: "1000",
      RATE_LIMIT_SIGNUP_PER_IP: "1000",
      LOG_LEVEL: "warn",
      BCRYPT_ROUNDS: "4",
      ...env,
    }),
  );
  const api = {
    url: `http://127.0.0.1:${port}`,
    port,
    get log() {
      return server.output();
    },
    stop: () => stopApi(server, 5_000),
  };
  scope.defer(api.stop);
  scope.apis.push(api);
  await waitForHealth(api.url, server, { timeoutMs: API_START_TIMEOUT_MS });
  return api;
}

let frontendModule;
async function loadFrontendServer() {
  frontendModule ??= await import(pathToFileURL(FRONTEND_SERVER).href);
  return frontendModule;
}

function listen(scope, server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      scope.defer(
        () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      );
      resolve(server.address().port);
    });
  });
}

/** Serves frontend/ with the pages pointed at apiUrl; over https when given a certificate. */
async function startFrontend(scope, { apiUrl, tls }) {
  const { createFrontendServer, createFrontendHandler } = await loadFrontendServer();
  const server = tls
    ? https.createServer(tls, createFrontendHandler({ root: FRONTEND_ROOT, apiUrl }))
    : createFrontendServer({ root: FRONTEND_ROOT, apiUrl });
  return listen(scope, server);
}

/** A TLS-terminating proxy in front of the (plain http) API, as a real deployment would have. */
async function startTlsProxy(scope, { tls, targetPort }) {
  const server = https.createServer(tls, (req, res) => {
    const upstream = http.request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("bad gateway");
    });
    req.pipe(upstream);
  });
  return listen(scope, server);
}

/** A throwaway self-signed certificate for app.test and api.test. */
async function makeCertificate(scope) {
  const dir = await tempDir(scope, "tls");
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=crossauth e2e",
      "-addext", "subjectAltName=DNS:app.test,DNS:api.test",
    ],
    { stdio: "pipe", timeout: 20_000 },
  );
  return { key: await readFile(key), cert: await readFile(cert) };
}

/** A fresh Chromium profile (its own browser process) with a first page, failing the test on page errors. */
async function launchBrowser(scope, { name, extraArgs = [], resolverRules = [] }) {
  const profile = await tempDir(scope, "profile");
  const rules = [...resolverRules, "MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"].join(", ");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, `--host-resolver-rules=${rules}`, ...extraArgs],
    viewport: { width: 1100, height: 820 },
    timeout: 30_000,
  });
  scope.defer(() => context.close());
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);

  const page = context.pages()[0] ?? (await context.newPage());
  page.problems = [];
  page.on("pageerror", (error) => page.problems.push(`uncaught error in the page: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|SyntaxError|TypeError|ReferenceError/.test(message.text())) {
      page.problems.push(`console error: ${message.text()}`);
    }
  });
  page.on("request", (request) => {
    const { hostname, protocol } = new URL(request.url());
    if (!["http:", "https:"].includes(protocol)) return;
    if (!["localhost", "127.0.0.1", "app.test", "api.test"].includes(hostname)) {
      page.problems.push(`request to a non-local host: ${request.url()}`);
    }
  });
  page.on("dialog", (dialog) => dialog.accept());
  page.label = name;
  scope.pages.push(page);
  return { context, page };
}

// ---------------------------------------------------------------------------------------------------------
// Page helpers. playwright-core has no `expect`, so waits are explicit and always bounded.

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function waitForText(locator, pattern, what, timeout = ACTION_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    if (await locator.isVisible().catch(() => false)) {
      last = (await locator.innerText().catch(() => "")).replace(/\s+/g, " ").trim();
      if (pattern.test(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected text matching ${pattern}, got ${last ? JSON.stringify(last) : "nothing visible"}`);
}

async function waitForCode(page, id, code, what) {
  const locator = page.locator(`#${id}`);
  try {
    await page.waitForFunction(
      ([elementId, expected]) => {
        const element = document.getElementById(elementId);
        return element && !element.hidden && element.dataset.code === expected;
      },
      [id, code],
      { timeout: ACTION_TIMEOUT_MS, polling: 100 },
    );
  } catch {
    const shown = await locator.evaluate((el) => `${el.dataset.code || "(no code)"}: ${el.innerText}`).catch(() => "?");
    throw new Error(`${what}: expected #${id} to show ${code}, it shows ${JSON.stringify(shown)}`);
  }
  return (await locator.innerText()).replace(/\s+/g, " ").trim();
}

async function screenshot(page, file) {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS_DIR, `${file}.png`), fullPage: true });
}

/** Saves a screenshot and checks the page's basics: every visible field labelled, no inline script or handler. */
async function inspect(page, file) {
  await screenshot(page, file);
  const problems = await page.evaluate(() => {
    const found = [];
    for (const field of document.querySelectorAll("input, select, textarea")) {
      if (field.type !== "hidden" && !field.hidden && field.labels.length === 0 && !field.getAttribute("aria-label")) {
        found.push(`field without a label: #${field.id || field.name}`);
      }
    }
    if (document.querySelector("script:not([src])")) found.push("inline <script>");
    for (const element of document.querySelectorAll("*")) {
      const handler = [...element.attributes].find((attribute) => attribute.name.startsWith("on"));
      if (handler) found.push(`inline handler ${handler.name} on <${element.localName}>`);
    }
    return found;
  });
  assert(problems.length === 0, `${file}: ${problems.join("; ")}`);
}

async function open(page, base, file) {
  await page.goto(`${base}/${file}`, { waitUntil: "load" });
}

async function logIn(page, base, uid, password) {
  await open(page, base, "login.html");
  await page.getByLabel("GitHub ID").first().fill(uid);
  await page.locator("#login-password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function expectProfile(page, uid, what) {
  await page.waitForURL(/\/profile\.html$/, { timeout: NAVIGATION_TIMEOUT_MS }).catch(async () => {
    const message = await page.locator("#login-message").textContent().catch(() => "");
    throw new Error(`${what}: did not reach the profile (at ${page.url()}; login message: ${JSON.stringify(message?.trim())})`);
  });
  await waitForText(page.locator("#detail-uid"), new RegExp(`^${uid}$`), `${what}: profile GitHub ID`);
}

async function expectFocusOn(page, id, what) {
  const focused = await page.evaluate(() => document.activeElement?.id ?? "");
  assert(focused === id, `${what}: focus should be on #${id}, it is on ${focused ? `#${focused}` : "nothing"}`);
}

/** The session cookie as the browser stored it: HttpOnly, Secure, SameSite=None, in the page site's partition. */
async function expectPartitionedCookie(context, apiBase, topLevelSite) {
  const cookies = await context.cookies(apiBase);
  const cookie = cookies.find((c) => c.name === "__Host-jwt_token");
  assert(cookie, `the browser holds no __Host-jwt_token for ${apiBase} (has: ${cookies.map((c) => c.name).join(", ") || "none"})`);
  assert(cookie.httpOnly && cookie.secure && cookie.sameSite === "None", `cookie attributes: ${JSON.stringify(cookie)}`);
  assert(cookie.partitionKey === topLevelSite, `cookie should be partitioned under ${topLevelSite}: ${JSON.stringify(cookie)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Topologies

/** Frontend and API on localhost/127.0.0.1 over http. `pageHost` and `apiHost` choose same-site or cross-site. */
async function httpTopology(scope, { pageHost, apiHost, env }) {
  const apiPort = await freePort();
  const apiBase = `http://${apiHost}:${apiPort}`;
  const frontendPort = await startFrontend(scope, { apiUrl: apiBase });
  const base = `http://${pageHost}:${frontendPort}`;
  const api = await startApi(scope, { port: apiPort, origins: [base], env });
  return { base, apiBase, api };
}

// ---------------------------------------------------------------------------------------------------------
// Tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("same-site (localhost → localhost): sign up, log in, edit profile, change password, log out", async (scope) => {
  const { base } = await httpTopology(scope, { pageHost: "localhost", apiHost: "localhost" });
  const { page } = await launchBrowser(scope, { name: "same-site" });

  await open(page, base, "index.html");
  await waitForText(page.locator("#home-status"), /You are not logged in/, "home before login");
  await waitForText(page.locator("#nav-links"), /Log in/, "nav before login");
  await inspect(page, "home-logged-out");

  // Sign up, then log in with the new account.
  await open(page, base, "login.html");
  await inspect(page, "login");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.locator("#signup-uid").fill("ada-l");
  await page.getByLabel("Email").fill("ada@example.com");
  await page.locator("#signup-password").fill("analytical-1843");
  await page.getByRole("button", { name: "Create account" }).click();
  await waitForText(page.locator("#signup-message"), /Account created for ada-l/, "signup");
  assert((await page.locator("#login-uid").inputValue()) === "ada-l", "signup should prefill the login GitHub ID");
  await expectFocusOn(page, "login-password", "after signup");
  await inspect(page, "login-after-signup");
  await page.keyboard.type("analytical-1843");
  await page.keyboard.press("Enter");
  await expectProfile(page, "ada-l", "login after signup");
  await waitForText(page.getByTestId("nav-user"), /^Ada Lovelace$/, "nav shows the user's name");
  await waitForText(page.locator("#detail-email"), /^ada@example\.com$/, "profile email");
  await inspect(page, "profile");

  // Edit the profile; the change survives a reload.
  await page.locator("#profile-name").fill("Ada King");
  await page.locator("#profile-email").fill("ada@king.example");
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitForText(page.locator("#edit-message"), /Your profile was saved/, "save profile");
  await page.reload();
  await waitForText(page.locator("#detail-name"), /^Ada King$/, "edited name after reload");
  await waitForText(page.locator("#detail-email"), /^ada@king\.example$/, "edited email after reload");

  // An invalid edit shows the API's field errors.
  await page.locator("#profile-email").fill("");
  await page.locator("#profile-name").evaluate((input) => input.removeAttribute("minlength"));
  await page.locator("#profile-name").fill("A");
  await page.getByRole("button", { name: "Save changes" }).click();
  const invalid = await waitForCode(page, "edit-message", "VALIDATION_FAILED", "invalid name");
  assert(/Name must be 2 to 100 characters/.test(invalid), `validation message should name the field: ${invalid}`);
  await expectFocusOn(page, "edit-message", "validation error");
  await page.reload();

  // Change the password: a wrong current password is refused, the right one works.
  await page.locator("#current-password").fill("not-my-password");
  await page.locator("#new-password").fill("difference-engine-2");
  await page.locator("#confirm-password").fill("difference-engine-2");
  await page.getByRole("button", { name: "Change password" }).click();
  const wrongCurrent = await waitForCode(page, "password-message", "VALIDATION_FAILED", "wrong current password");
  assert(/Current password is incorrect/.test(wrongCurrent), `wrong current password message: ${wrongCurrent}`);
  await page.locator("#current-password").fill("analytical-1843");
  await page.getByRole("button", { name: "Change password" }).click();
  await waitForText(page.locator("#password-message"), /Your password was changed/, "change password");
  await inspect(page, "profile-password-changed");
  // The re-issued cookie keeps this session alive.
  await page.reload();
  await waitForText(page.locator("#detail-uid"), /^ada-l$/, "still logged in after the password change");

  await open(page, base, "index.html");
  await waitForText(page.locator("#home-status"), /Welcome back, Ada King/, "home when logged in");
  await inspect(page, "home-logged-in");

  // Log out from the profile, and stay logged out after a reload.
  await open(page, base, "profile.html");
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await waitForText(page.locator("#profile-message"), /You have been logged out/, "log out");
  await page.reload();
  await waitForText(page.locator("#profile-message"), /You are not logged in/, "profile after logout and reload");
  await waitForText(page.locator("#nav-links"), /Log in/, "nav after logout");
  await inspect(page, "profile-logged-out");

  // The old password no longer works, the new one does; then the logout page.
  await logIn(page, base, "ada-l", "analytical-1843");
  await waitForCode(page, "login-message", "INVALID_CREDENTIALS", "old password after change");
  await logIn(page, base, "ada-l", "difference-engine-2");
  await expectProfile(page, "ada-l", "login with the new password");
  await open(page, base, "logout.html");
  await waitForText(page.locator("#logout-status"), /You have been logged out\./, "logout page");
  await inspect(page, "logout");
  await open(page, base, "index.html");
  await waitForText(page.locator("#home-status"), /You are not logged in/, "home after the logout page");

  // "Log out everywhere" ends the session in another browser too.
  const other = (await launchBrowser(scope, { name: "same-site-second-browser" })).page;
  await logIn(other, base, "ada-l", "difference-engine-2");
  await expectProfile(other, "ada-l", "login in a second browser");
  await logIn(page, base, "ada-l", "difference-engine-2");
  await expectProfile(page, "ada-l", "login again");
  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await waitForText(page.locator("#profile-message"), /logged out on every device/, "log out everywhere");
  await other.reload();
  await waitForCode(other, "profile-message", "TOKEN_REVOKED", "the other browser after logging out everywhere");
});

test("cross-site over http (127.0.0.1 → localhost), Partitioned cookie: log in and reach the profile", async (scope) => {
  const { base, apiBase } = await httpTopology(scope, { pageHost: "127.0.0.1", apiHost: "localhost" });
  const { context, page } = await launchBrowser(scope, { name: "cross-site-http" });
  await logIn(page, base, "user", "password");
  await expectProfile(page, "user", "cross-site login");
  await expectPartitionedCookie(context, apiBase, "http://127.0.0.1");
  await page.reload();
  await waitForText(page.locator("#detail-uid"), /^user$/, "still logged in after reload");
  await inspect(page, "cross-site-http-profile");
  await page.setViewportSize({ width: 390, height: 844 });
  await inspect(page, "profile-narrow-screen");
});

test("cross-site over HTTPS (app.test → api.test), Partitioned cookie: log in, reload, still logged in", async (scope) => {
  const tls = await makeCertificate(scope);
  const apiPort = await freePort();
  const proxyPort = await startTlsProxy(scope, { tls, targetPort: apiPort });
  const frontendPort = await startFrontend(scope, { apiUrl: `https://api.test:${proxyPort}`, tls });
  const base = `https://app.test:${frontendPort}`;
  await startApi(scope, { port: apiPort, origins: [base] });
  const { context, page } = await launchBrowser(scope, {
    name: "cross-site-https",
    resolverRules: ["MAP app.test 127.0.0.1", "MAP api.test 127.0.0.1"],
    extraArgs: ["--ignore-certificate-errors"],
  });
  await logIn(page, base, "user", "password");
  await expectProfile(page, "user", "HTTPS cross-site login");
  await expectPartitionedCookie(context, `https://api.test:${proxyPort}`, "https://app.test");
  await page.reload();
  await waitForText(page.locator("#detail-uid"), /^user$/, "still logged in after reload");
  await open(page, base, "index.html");
  await waitForText(page.getByTestId("nav-user"), /^Demo User$/, "home nav over HTTPS");
  await inspect(page, "cross-site-https-home");
});

test("cross-site over http without Partitioned: the login page says the browser blocked the cookie", async (scope) => {
  const { base } = await httpTopology(scope, {
    pageHost: "127.0.0.1",
    apiHost: "localhost",
    env: { COOKIE_PARTITIONED: "false" },
  });
  const { page } = await launchBrowser(scope, { name: "blocked-cookie" });
  await logIn(page, base, "user", "password");
  const text = await waitForCode(page, "login-message", "COOKIE_BLOCKED", "unpartitioned cross-site login");
  assert(/blocked the login cookie/.test(text), `blocked-cookie message: ${text}`);
  assert(/Partitioned/.test(text) && /localhost/.test(text), `blocked-cookie message should say what to do: ${text}`);
  assert(/\/login\.html$/.test(page.url()), `should stay on the login page, is at ${page.url()}`);
  await expectFocusOn(page, "login-message", "blocked cookie");
  await inspect(page, "login-blocked-cookie");
});

test("admin: changes a user's role, which the user's next request reflects; a user cannot see the admin data", async (scope) => {
  const { base } = await httpTopology(scope, { pageHost: "localhost", apiHost: "localhost" });
  const admin = (await launchBrowser(scope, { name: "admin" })).page;
  const user = (await launchBrowser(scope, { name: "user" })).page;

  // A plain user: "Admins only" and no data.
  await logIn(user, base, "user", "password");
  await expectProfile(user, "user", "user login");
  await waitForText(user.locator("#detail-role"), /^User$/, "user's role before");
  await open(user, base, "admin.html");
  await waitForText(user.locator("#admin-message"), /Admins only/, "admin page for a User");
  assert(!(await user.locator("#admin-content").isVisible()), "a User must not see the users table");
  assert((await user.locator("#users-body tr").count()) === 0, "a User's admin page must hold no user rows");
  await inspect(user, "admin-as-user");

  // The admin signs up a throwaway account (signup sets no cookie), lists users, deletes it.
  await logIn(admin, base, "admin", "password");
  await expectProfile(admin, "admin", "admin login");
  await open(admin, base, "login.html");
  await admin.getByLabel("Name").fill("Temporary Account");
  await admin.locator("#signup-uid").fill("temp-account");
  await admin.locator("#signup-password").fill("temporary-123");
  await admin.getByRole("button", { name: "Create account" }).click();
  await waitForText(admin.locator("#signup-message"), /Account created/, "admin creates a throwaway account");
  await open(admin, base, "admin.html");
  await waitForText(admin.locator("#users-body"), /admin.*temp-account.*user/, "users table");
  await inspect(admin, "admin-users");

  await admin.getByRole("button", { name: "Manage temp-account" }).click();
  await expectFocusOn(admin, "manage-heading", "manage panel");
  await admin.getByRole("button", { name: "Delete user" }).click();
  await waitForText(admin.locator("#admin-message"), /temp-account was deleted/, "delete");
  assert((await admin.locator('#users-body tr[data-uid="temp-account"]').count()) === 0, "deleted row should be gone");

  // Promote the user.
  await admin.getByRole("button", { name: "Manage user" }).click();
  await admin.getByLabel("Role").selectOption("Admin");
  await admin.getByRole("button", { name: "Save role" }).click();
  await waitForText(admin.locator("#manage-message"), /user is now an Admin/, "role change");
  await waitForText(admin.locator('#users-body tr[data-uid="user"]'), /Admin/, "table shows the new role");
  await inspect(admin, "admin-role-changed");

  // The role change revoked the user's sessions: their next request says so; after logging in again
  // they are an Admin and see the data.
  await open(user, base, "profile.html");
  const ended = await waitForCode(user, "profile-message", "TOKEN_REVOKED", "user's next request after the role change");
  assert(/session has ended/.test(ended), `session-ended message: ${ended}`);
  await inspect(user, "profile-session-ended");
  await logIn(user, base, "user", "password");
  await expectProfile(user, "user", "user logs in again");
  await waitForText(user.locator("#detail-role"), /^Admin$/, "user's role after the change");
  await open(user, base, "admin.html");
  await waitForText(user.locator("#users-body"), /admin.*user/, "the promoted user sees the users table");
});

test("wrong password shows the wrong-credentials message; repeated failures show the lockout and its wait", async (scope) => {
  const { base, api } = await httpTopology(scope, {
    pageHost: "localhost",
    apiHost: "localhost",
    env: { LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "60" },
  });
  const { page } = await launchBrowser(scope, { name: "lockout" });

  await logIn(page, base, "user", "wrong-password");
  const wrong = await waitForCode(page, "login-message", "INVALID_CREDENTIALS", "wrong password");
  assert(/Wrong GitHub ID or password/.test(wrong), `wrong-credentials message: ${wrong}`);
  await expectFocusOn(page, "login-message", "wrong password");
  await inspect(page, "login-wrong-password");

  let locked = "";
  for (let attempt = 2; attempt <= 6 && !locked; attempt += 1) {
    await page.locator("#login-password").fill(`wrong-password-${attempt}`);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForFunction(() => {
      const el = document.getElementById("login-message");
      return !el.hidden && el.dataset.code;
    }, null, { timeout: ACTION_TIMEOUT_MS });
    const code = await page.locator("#login-message").getAttribute("data-code");
    if (code === "RATE_LIMITED") locked = (await page.locator("#login-message").innerText()).trim();
    else assert(code === "INVALID_CREDENTIALS", `attempt ${attempt}: unexpected ${code}`);
  }
  assert(locked, "six wrong passwords never locked the account (LOGIN_MAX_FAILURES=3)");
  const wait = /wait (\d+) seconds|wait 1 minute/.exec(locked);
  assert(wait, `lockout message should say how long to wait: ${locked}`);
  assert(!wait[1] || (Number(wait[1]) > 0 && Number(wait[1]) <= 60), `wait should be within LOGIN_LOCK_SECONDS: ${locked}`);
  await inspect(page, "login-locked");

  // The lock holds for the right password too.
  await page.locator("#login-password").fill("password");
  await page.getByRole("button", { name: "Log in" }).click();
  await waitForCode(page, "login-message", "RATE_LIMITED", "right password while locked");

  // With the API gone, the page explains the network failure.
  await api.stop();
  await page.locator("#login-password").fill("password");
  await page.getByRole("button", { name: "Log in" }).click();
  const down = await waitForCode(page, "login-message", "NETWORK_ERROR", "API down");
  assert(/Could not reach the login service/.test(down), `network failure message: ${down}`);
  await inspect(page, "login-network-error");
});

// ---------------------------------------------------------------------------------------------------------
// Runner

let CHROMIUM;

async function runTest({ name, fn }) {
  const scope = new Scope();
  const started = Date.now();
  let failure = null;
  try {
    await withTimeout(fn(scope), TEST_TIMEOUT_MS, "test");
    const problems = scope.pages.flatMap((page) => page.problems.map((p) => `[${page.label}] ${p}`));
    if (problems.length) throw new Error(problems.join("\n"));
  } catch (error) {
    failure = error;
    for (const page of scope.pages) {
      await withTimeout(screenshot(page, `FAILED-${slug(name)}-${page.label}`), 5_000, "screenshot").catch(() => {});
    }
  } finally {
    await scope.close();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!failure) {
    console.log(`✓ ${name} (${seconds}s)`);
    return true;
  }
  console.log(`✗ ${name} (${seconds}s): ${failure.message}`);
  for (const api of scope.apis) {
    if (api.log.trim()) console.log(`  API log (port ${api.port}):\n${indent(api.log.trim().split("\n").slice(-30).join("\n"))}`);
  }
  return false;
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/-+$/, "");
}

function indent(text) {
  return text.replace(/^/gm, "    ");
}

async function main() {
  const filter = process.argv[2];
  const selected = filter ? tests.filter((t) => t.name.includes(filter)) : tests;
  let passed = 0;
  let failed = 0;
  try {
    CHROMIUM = findChromium();
    for (const file of [API_ENTRY, FRONTEND_SERVER]) {
      if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first.`);
    }
  } catch (error) {
    console.log(`✗ setup: ${error.message}`);
    console.log(`RESULT passed=0 failed=${Math.max(selected.length, 1)}`);
    process.exit(1);
  }
  for (const t of selected) {
    if (await runTest(t)) passed += 1;
    else failed += 1;
  }
  if (selected.length === 0) {
    console.log(`✗ no test matches ${JSON.stringify(filter)}`);
    failed = 1;
  }
  console.log(`RESULT passed=${passed} failed=${failed}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
// Everything was closed above; exit explicitly so a stray handle cannot keep the run alive.
process.exit(process.exitCode ?? 0);
