// The browser tests' harness: Debian's Chromium driven by playwright-core against the real pages and a real
// API process (dist/backend/server.js, built by `npm run build`), in the topologies of docs/api.md ›
// Topologies. Every server, browser and directory a test starts is released by its after hooks
// (test/lib/suite.mjs).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { freePort, ROOT } from "../lib/api-process.mjs";
import { own, startApi, tempDir } from "../lib/suite.mjs";

const RESULTS_DIR = path.join(ROOT, "test-results");
const FRONTEND_SERVER = path.join(ROOT, "dist", "backend", "frontend-server.js");
const FRONTEND_ROOT = path.join(ROOT, "frontend");

export const TEST_TIMEOUT_MS = 120_000;
export const ACTION_TIMEOUT_MS = 10_000;
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

let chromiumPath;
function findChromium() {
  // An explicit CHROMIUM_PATH is used or refused, never silently replaced by another browser.
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  chromiumPath ??= candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!chromiumPath) {
    throw new Error(
      `No Chromium found (looked at ${candidates.join(", ")}). Install Debian's: ` +
        "`sudo apt-get install -y chromium`, or set CHROMIUM_PATH to a Chromium/Chrome binary.",
    );
  }
  return chromiumPath;
}

// ---------------------------------------------------------------------------------------------------------
// Servers and browsers, each released when the test `t` that started it ends.

/** The API on 127.0.0.1:<port> with its own database, allowing `origins`; resolves once healthy. */
export function startE2eApi(t, { port, origins, env = {} }) {
  return startApi(t, {
    name: "e2e-api",
    port,
    env: {
      NODE_ENV: "development",
      JWT_SECRET: randomBytes(48).toString("base64url"),
      ALLOWED_ORIGINS: origins.join(","),
      RATE_LIMIT_LOGIN_PER_IP: "1000",
      RATE_LIMIT_SIGNUP_PER_IP: "1000",
      LOG_LEVEL: "warn",
      BCRYPT_ROUNDS: "4",
      ...env,
    },
  });
}

function listen(t, server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      own(t, () => {
        const closed = new Promise((done) => server.close(done));
        server.closeAllConnections();
        return closed;
      });
      resolve(server.address().port);
    });
  });
}

/**
 * Serves frontend/ with the pages pointed at apiUrl; over https when given a certificate. `cspHeader: false`
 * drops the server's Content-Security-Policy header, as a static host like GitHub Pages would: only the
 * pages' own meta tag protects them then.
 */
export async function startFrontend(t, { apiUrl, tls, cspHeader = true }) {
  if (!fs.existsSync(FRONTEND_SERVER)) throw new Error(`${path.relative(ROOT, FRONTEND_SERVER)} is missing: run \`npm run build\` first`);
  const { createFrontendServer, createFrontendHandler } = await import(pathToFileURL(FRONTEND_SERVER).href);
  if (!tls && cspHeader) return listen(t, createFrontendServer({ root: FRONTEND_ROOT, apiUrl }));
  const handler = createFrontendHandler({ root: FRONTEND_ROOT, apiUrl });
  const serve = cspHeader ? handler : (req, res) => handler(req, withoutCspHeader(res));
  return listen(t, tls ? https.createServer(tls, serve) : http.createServer(serve));
}

/** `res` whose writeHead leaves out Content-Security-Policy. */
function withoutCspHeader(res) {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, ...rest) => {
    const headers = rest.find((arg) => arg && typeof arg === "object");
    if (headers) for (const name of Object.keys(headers)) if (name.toLowerCase() === "content-security-policy") delete headers[name];
    res.removeHeader("Content-Security-Policy");
    return writeHead(status, ...rest);
  };
  return res;
}

/** A TLS-terminating proxy in front of the (plain http) API, as a real deployment would have. */
export function startTlsProxy(t, { tls, targetPort }) {
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
  return listen(t, server);
}

/** A throwaway self-signed certificate for app.test and api.test. */
export async function makeCertificate(t) {
  const dir = tempDir(t, "e2e-tls");
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

/** The pages each test opened, for checkPages. */
const pagesOf = new WeakMap();

/** A fresh Chromium profile (its own browser process) with a first page that records page errors. */
export async function launchBrowser(t, { name, extraArgs = [], resolverRules = [] }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-e2e-profile-"));
  const rules = [...resolverRules, "MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"].join(", ");
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: findChromium(),
      headless: true,
      args: [...BASE_ARGS, `--host-resolver-rules=${rules}`, ...extraArgs],
      viewport: { width: 1100, height: 820 },
      timeout: 30_000,
      // Chromium's own temp files go into the profile too, so an interrupted run cannot strand them.
      env: { ...process.env, TMPDIR: profile },
      // On a signal, test/lib/suite.mjs releases everything; playwright's own handlers would exit first.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  // Owned only once launched: a launch that outlives its timed-out test is closed at once by own().
  own(t, async () => {
    try {
      await context.close();
    } finally {
      await fs.promises.rm(profile, { recursive: true, force: true });
    }
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);

  const page = context.pages()[0] ?? (await context.newPage());
  page.problems = [];
  // Every CSP violation is a problem, also one Chromium does not log to the console.
  await context.exposeBinding("__crossauthCspViolation", ({ page: source }, text) => (source?.problems ?? page.problems).push(`Content Security Policy violation: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__crossauthCspViolation?.(`${event.effectiveDirective} refused ${event.blockedURI || "an inline resource"} on ${location.pathname}`);
    });
  });
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
  pagesOf.set(t, [...(pagesOf.get(t) ?? []), page]);
  return { context, page };
}

/**
 * The afterEach hook of every browser test: fails the test on an error in any of its pages, and keeps a
 * screenshot of each page of a failed test. It runs before the test's after hooks close the browsers.
 */
export async function checkPages(t) {
  const pages = pagesOf.get(t) ?? [];
  const problems = pages.flatMap((page) => page.problems.map((problem) => `[${page.label}] ${problem}`));
  if (!t.passed || problems.length > 0) {
    for (const page of pages) {
      await screenshot(page, `FAILED-${slug(t.name)}-${page.label}`, { timeout: 5_000 }).catch(() => {});
    }
  }
  assert(problems.length === 0, problems.join("\n"));
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/-+$/, "");
}

// ---------------------------------------------------------------------------------------------------------
// Topologies

/**
 * Frontend and API on localhost/127.0.0.1 over http. `pageHost` and `apiHost` choose same-site or cross-site;
 * `cspHeader` goes to startFrontend.
 */
export async function httpTopology(t, { pageHost, apiHost, env, cspHeader }) {
  const apiPort = await freePort();
  const apiBase = `http://${apiHost}:${apiPort}`;
  const frontendPort = await startFrontend(t, { apiUrl: apiBase, cspHeader });
  const base = `http://${pageHost}:${frontendPort}`;
  const api = await startE2eApi(t, { port: apiPort, origins: [base], env });
  return { base, apiBase, api };
}

// ---------------------------------------------------------------------------------------------------------
// Page helpers. playwright-core has no `expect`, so waits are explicit and always bounded.

export async function waitForText(locator, pattern, what, timeout = ACTION_TIMEOUT_MS) {
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

export async function waitForCode(page, id, code, what) {
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

async function screenshot(page, file, options = {}) {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS_DIR, `${file}.png`), fullPage: true, ...options });
}

/** Saves a screenshot and checks the page's basics: every visible field labelled, no inline script or handler. */
export async function inspect(page, file) {
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

export async function open(page, base, file) {
  await page.goto(`${base}/${file}`, { waitUntil: "load" });
}

export async function logIn(page, base, uid, password) {
  await open(page, base, "login.html");
  await page.getByLabel("GitHub ID").first().fill(uid);
  await page.locator("#login-password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

export async function expectProfile(page, uid, what) {
  await page.waitForURL(/\/profile\.html$/, { timeout: NAVIGATION_TIMEOUT_MS }).catch(async () => {
    const message = await page.locator("#login-message").textContent().catch(() => "");
    throw new Error(`${what}: did not reach the profile (at ${page.url()}; login message: ${JSON.stringify(message?.trim())})`);
  });
  await waitForText(page.locator("#detail-uid"), new RegExp(`^${uid}$`), `${what}: profile GitHub ID`);
}

export async function expectFocusOn(page, id, what) {
  const focused = await page.evaluate(() => document.activeElement?.id ?? "");
  assert(focused === id, `${what}: focus should be on #${id}, it is on ${focused ? `#${focused}` : "nothing"}`);
}

/** The session cookie as the browser stored it: HttpOnly, Secure, SameSite=None, in the page site's partition. */
export async function expectPartitionedCookie(context, apiBase, topLevelSite) {
  const cookies = await context.cookies(apiBase);
  const cookie = cookies.find((c) => c.name === "__Host-jwt_token");
  assert(cookie, `the browser holds no __Host-jwt_token for ${apiBase} (has: ${cookies.map((c) => c.name).join(", ") || "none"})`);
  assert(cookie.httpOnly && cookie.secure && cookie.sameSite === "None", `cookie attributes: ${JSON.stringify(cookie)}`);
  assert(cookie.partitionKey === topLevelSite, `cookie should be partitioned under ${topLevelSite}: ${JSON.stringify(cookie)}`);
}
