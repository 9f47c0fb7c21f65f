// The doctor page: what this browser, on this page's real origin, sees of the API — the same ✔ ! ✖ lines as
// `npm run doctor`, each with what to change. On load it only reads (GET requests); the login check runs when
// the person asks for it, and logs out at the end so it leaves no session.
import { API_URL, ApiError, apiFetch, fetchOptions } from "./api/config.js";
import { BLOCKED_COOKIE_MESSAGE, blockedCookieAdvice } from "./messages.js";
import { renderFooter } from "./ui.js";

const SYMBOLS = { ok: "✔", warn: "!", fail: "✖" };
const SPOKEN = { ok: "Fine:", warn: "Warning:", fail: "Problem:" };
const KINDS = { ok: "success", warn: "info", fail: "error" };

// ---------------------------------------------------------------------------------------------------------
// Sites. Pages cannot read the browser's Public Suffix List, so this is a small stand-in: registrable domains
// compared with a short list of shared suffixes static sites often live under. A host under a multi-label
// suffix missing here (say, two apps on one platform domain) can be judged same-site when the browser says
// cross-site; `npm run doctor` uses the full list. The login check below is the browser's own verdict.

const SHARED_SUFFIXES = [
  "github.io", "gitlab.io", "pages.dev", "workers.dev", "netlify.app", "vercel.app", "web.app", "firebaseapp.com",
  "herokuapp.com", "onrender.com", "fly.dev", "azurewebsites.net", "azurestaticapps.net", "cloudfront.net",
  "surge.sh", "glitch.me", "co.uk", "org.uk", "ac.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp", "com.br", "co.in", "co.za",
];

const isIp = (host) => host.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
const isLoopback = (host) => host === "localhost" || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host) || host === "[::1]";

function registrableDomain(host) {
  if (isIp(host) || !host.includes(".")) return host;
  const suffix = SHARED_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return host.split(".").slice(-((suffix ? suffix.split(".").length : 1) + 1)).join(".");
}

/** Schemeful: http://example.com and https://example.com are different sites. */
function relationOf(page, api) {
  if (page.origin === api.origin) return "same-origin";
  const site = (url) => `${url.protocol}//${registrableDomain(url.hostname)}`;
  return site(page) === site(api) ? "same-site" : "cross-site";
}

function parseUrl(value) {
  try {
    return new URL(value, location.href);
  } catch {
    return null;
  }
}

const here = new URL(location.href);
const api = parseUrl(API_URL || location.origin);
const relation = api ? relationOf(here, api) : null;
const apiSecure = api && (api.protocol === "https:" || isLoopback(api.hostname));

// ---------------------------------------------------------------------------------------------------------
// Lines

/** A fix is text, or a list of advice items (text, or `{ text, link }`) as messages.js words them. */
function fixElement(fix) {
  const list = document.createElement("ul");
  for (const advice of Array.isArray(fix) ? fix : [`What to change: ${fix}`]) {
    const item = document.createElement("li");
    if (typeof advice === "string") {
      item.textContent = advice;
    } else {
      const link = document.createElement("a");
      link.href = link.textContent = advice.link;
      item.append(advice.text, link);
    }
    list.append(item);
  }
  return list;
}

function addLine(list, { id, status, title, detail, fix }) {
  const line = document.createElement("div");
  line.setAttribute("role", "listitem");
  line.className = "message";
  line.dataset.kind = KINDS[status];
  line.dataset.check = id;
  line.dataset.status = status;
  const symbol = document.createElement("span");
  symbol.setAttribute("aria-hidden", "true");
  symbol.textContent = `${SYMBOLS[status]} `;
  const spoken = document.createElement("span");
  spoken.className = "visually-hidden";
  spoken.textContent = `${SPOKEN[status]} `;
  const heading = document.createElement("strong");
  heading.textContent = title;
  line.append(symbol, spoken, heading, document.createTextNode(detail ? ` — ${detail}` : ""));
  if (fix && status !== "ok") line.append(fixElement(fix));
  list.append(line);
}

// ---------------------------------------------------------------------------------------------------------
// Read-only checks

function apiUrlCheck() {
  const meta = document.querySelector('meta[name="api-uri"]')?.getAttribute("content")?.trim() ?? "";
  const why = meta
    ? `from this page's <meta name="api-uri" content="${meta}">`
    : isLoopback(here.hostname)
      ? `no api-uri meta: on ${here.hostname}, config.js takes the same host on port 8587`
      : "no api-uri meta: config.js takes this page's own origin (the API behind a proxy under /api)";
  const title = `API URL ${API_URL || `${location.origin} (same origin)`}`;
  if (!api || !/^https?:$/.test(api.protocol)) {
    return { id: "api-url", status: "fail", title, detail: `${why}: not an http(s) URL`, fix: 'set <meta name="api-uri" content="https://api.example.com"> in every page' };
  }
  if (api.pathname !== "/") {
    return { id: "api-url", status: "warn", title, detail: `${why}; it has a path (${api.pathname}), and routes are appended to it (${API_URL}/api/id)`, fix: "leave the path out of api-uri unless a proxy serves the API under it" };
  }
  return { id: "api-url", status: "ok", title, detail: why };
}

const RELATION_WORDS = {
  "same-origin": "same origin",
  "same-site": "same site, another origin: the API's cookie is first-party here",
  "cross-site": "cross-site: the API's cookie is a third-party cookie here, which browsers keep only when it is Partitioned (COOKIE_PARTITIONED=true)",
};

function relationCheck() {
  if (!api) return null;
  return { id: "relation", status: "ok", title: `This page (${here.origin}) → ${api.origin}`, detail: RELATION_WORDS[relation] };
}

/** The cookie is always Secure: browsers take it only from https, or from http on loopback. */
function transportCheck() {
  if (!api) return null;
  const title = `API transport (${api.protocol.replace(":", "")})`;
  if (apiSecure) return { id: "transport", status: "ok", title, detail: api.protocol === "https:" ? "https" : "plain http on loopback: browsers accept Secure cookies here" };
  const mixed = here.protocol === "https:" ? "; and this https page may not call it at all (mixed content)" : "";
  return {
    id: "transport",
    status: "fail",
    title,
    detail: `${api.origin} is plain http on a host that is not loopback: the browser refuses its Secure login cookie${mixed}`,
    fix: `serve the API over https and set <meta name="api-uri" content="https://${api.host}">`,
  };
}

/**
 * Is the API up, and does it let this page read its answers? A CORS refusal and a network failure look the
 * same to a page (fetch rejects), but a `no-cors` request succeeds (opaquely) whenever the server answers.
 */
async function reachabilityCheck() {
  const url = `${API_URL}/api/health`;
  const title = `Reaching ${url}`;
  try {
    // fetchOptions without its headers: a simple request (no preflight), so a failure here is about the answer.
    const response = await fetch(url, { mode: fetchOptions.mode, credentials: fetchOptions.credentials, cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (response.ok && body?.status === "ok") {
      const parts = ["database", "redis"].filter((part) => typeof body[part] === "string").map((part) => `${part} ${body[part]}`);
      return { id: "health", status: "ok", title, detail: `200${parts.length ? ` (${parts.join(", ")})` : ""}` };
    }
    const detail = `${response.status}${body?.message ? `: ${body.message}` : ""}`;
    return { id: "health", status: "fail", title, detail, fix: "the API answers but is not healthy (or this is not the API): look at its log" };
  } catch {
    /* no readable answer: find out whether there was one at all */
  }
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store" });
    return {
      id: "health",
      status: "fail",
      title,
      detail: `the API answers, but does not let this page (${here.origin}) read it: CORS refused this origin`,
      fix: `add ${here.origin} to the API's ALLOWED_ORIGINS (exactly: scheme, host, port, no trailing slash) and restart it`,
    };
  } catch {
    return {
      id: "health",
      status: "fail",
      title,
      detail: "no answer at all: the API is down, the URL is wrong, or the browser blocked the request (mixed content, an untrusted certificate)",
      fix: 'start the API, and check the URL above (the pages\' <meta name="api-uri">)',
    };
  }
}

/** Our requests carry Content-Type: application/json and X-Origin, so each one is preflighted first. */
async function preflightCheck() {
  const title = "Preflight (Content-Type, X-Origin, with credentials)";
  try {
    const user = await apiFetch("/api/id");
    return { id: "preflight", status: "ok", title, detail: `accepted; GET /api/id answered 200: this browser is logged in as ${user.uid}` };
  } catch (error) {
    if (error instanceof ApiError && error.status > 0) {
      return { id: "preflight", status: "ok", title, detail: `accepted; GET /api/id answered ${error.status} ${error.code}` };
    }
    return {
      id: "preflight",
      status: "fail",
      title,
      detail: "the browser refused the preflight (OPTIONS) although plain requests work",
      fix: "let OPTIONS reach the API unchanged: a proxy in front answers it itself, or drops Access-Control-Allow-Headers / -Credentials",
    };
  }
}

/** What this browser does with cookies, as far as a page can tell. */
async function cookiesCheck() {
  const title = "Cookies in this browser";
  if (!navigator.cookieEnabled) return { id: "third-party-cookies", status: "fail", title, detail: "cookies are turned off", fix: "allow cookies for this page and the API" };
  // For a top-level page this reports its own (first-party) cookies; the API's cookie is judged by relation.
  let access = "not available in this browser";
  if (typeof document.hasStorageAccess === "function") access = (await document.hasStorageAccess().catch(() => false)) ? "true" : "false";
  const situation =
    relation === "cross-site"
      ? `the API's cookie is third-party on this page: Chromium and Safari keep it only when it is Partitioned (Firefox keeps it in this site's partition), unless you allow third-party cookies for ${api.hostname}`
      : "the API's cookie is first-party on this page: only a browser that blocks all cookies refuses it";
  return { id: "third-party-cookies", status: "ok", title, detail: `on; document.hasStorageAccess(): ${access} (this page's own cookies); ${situation}` };
}

async function runReadOnlyChecks(list) {
  for (const check of [apiUrlCheck(), relationCheck(), transportCheck()]) if (check) addLine(list, check);
  if (api) {
    const reach = await reachabilityCheck();
    addLine(list, reach);
    if (reach.status === "ok") addLine(list, await preflightCheck());
  }
  addLine(list, await cookiesCheck());
  list.dataset.state = "done";
}

// ---------------------------------------------------------------------------------------------------------
// The login check: log in, see whether the cookie comes back, log out

function failureOf(id, title, error, fix) {
  const detail = error instanceof ApiError ? error.message : "something unexpected went wrong";
  return { id, status: "fail", title, detail, fix };
}

/** Why the browser did not send the cookie back, as far as the page can tell, and what to do. */
function blockedCookie() {
  const title = "Login cookie";
  if (!apiSecure) {
    return { id: "cookie", status: "fail", title, detail: `${BLOCKED_COOKIE_MESSAGE} The API is on plain http, so the browser refused its Secure cookie.`, fix: `serve the API over https (<meta name="api-uri" content="https://${api.host}">)` };
  }
  if (relation === "cross-site") {
    return {
      id: "cookie",
      status: "fail",
      title,
      detail: `${BLOCKED_COOKIE_MESSAGE} This page is cross-site to the API, so the cookie is third-party here and was not Partitioned.`,
      fix: blockedCookieAdvice(API_URL),
    };
  }
  return {
    id: "cookie",
    status: "fail",
    title,
    detail: `${BLOCKED_COOKIE_MESSAGE} This page is on the API's site, so the browser's settings block cookies for ${api.hostname}, or something between here and the API removes its Set-Cookie header.`,
    fix: `allow cookies for ${api.hostname}; on the API's machine, run npm run doctor: it shows the Set-Cookie the API sends`,
  };
}

async function cookieCheck() {
  try {
    const user = await apiFetch("/api/id");
    const how = relation === "cross-site" ? "as a Partitioned cookie kept for this site (COOKIE_PARTITIONED=true), or because this browser allows third-party cookies" : "as a first-party cookie";
    return { id: "cookie", status: "ok", title: "Login cookie", detail: `the browser kept it and sent it back ${how}: GET /api/id 200 (${user.uid})` };
  } catch (error) {
    if (error instanceof ApiError && error.code === "TOKEN_MISSING") return blockedCookie();
    return failureOf("cookie", "Login cookie", error, "see the lines above; the API's log says more");
  }
}

async function logoutCheck() {
  const title = "Logout";
  try {
    await apiFetch("/api/authenticate", { method: "DELETE" });
  } catch (error) {
    return failureOf("logout", title, error, "log out on the profile page, or wait for the session to expire");
  }
  try {
    await apiFetch("/api/id");
    return { id: "logout", status: "fail", title, detail: "the session still works after logging out", fix: "the clearing cookie did not replace the login cookie: run npm run doctor on the API's machine" };
  } catch (error) {
    if (error instanceof ApiError && error.code.startsWith("TOKEN_")) return { id: "logout", status: "ok", title, detail: "logged out: no session is left" };
    return failureOf("logout", title, error, "reload this page to see whether a session is left");
  }
}

async function runLoginChecks(list, uid, password) {
  list.replaceChildren();
  list.dataset.state = "running";
  const title = `Login as ${uid}`;
  try {
    await apiFetch("/api/authenticate", { method: "POST", body: { uid, password } });
    addLine(list, { id: "login", status: "ok", title, detail: "the API accepted the password (200)" });
    addLine(list, await cookieCheck());
    addLine(list, await logoutCheck());
  } catch (error) {
    const fix = error instanceof ApiError && error.code === "INVALID_CREDENTIALS" ? "use an existing account (this check never signs up)" : "see the lines above (reaching the API, preflight)";
    addLine(list, failureOf("login", title, error, fix));
  }
  list.dataset.state = "done";
}

// ---------------------------------------------------------------------------------------------------------

renderFooter();
const form = document.getElementById("doctor-form");
const loginList = document.getElementById("doctor-login-checks");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("doctor-button");
  const passwordField = form.elements.password;
  button.disabled = true;
  try {
    await runLoginChecks(loginList, form.elements.uid.value.trim(), passwordField.value);
  } finally {
    passwordField.value = "";
    button.disabled = false;
    loginList.focus();
  }
});
await runReadOnlyChecks(document.getElementById("doctor-checks"));
