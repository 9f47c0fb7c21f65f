// Checks against the running API, sent as a browser on each page's origin would send them (docs/api.md ›
// CORS and CSRF, › POST /api/authenticate). The only state they change is one login and its logout.
import { fail, ok, warn, type Check } from "./report";
import { describeAttributes, parseSetCookie, type SetCookie } from "./set-cookie";
import type { Settings } from "./settings";
import { isLoopbackHost } from "./sites";
import type { Frontend } from "./static-checks";

export interface Credentials {
  uid: string;
  password: string;
  /** Where they came from, as the fix for a refused login words it. */
  howToChange: string;
}

export interface LiveInput {
  /** The API's base URL, without a trailing slash; routes are appended. */
  api: string;
  frontends: Frontend[];
  settings: Settings;
  credentials: Credentials | null;
  timeoutMs: number;
}

interface Answer {
  status: number;
  headers: Headers;
  body: { code?: string; message?: string; [key: string]: unknown } | null;
}

/** No HTTP answer at all: refused, timed out, unknown host, TLS failure. */
class Unreachable extends Error {}

const group = "live";
/** A page the API does not know: a header value only, nothing is ever sent there. */
const FOREIGN_ORIGIN = "https://crossauth-doctor.invalid";
const NEEDED_HEADERS = ["content-type", "x-origin"];
const NEEDED_METHODS = ["GET", "POST", "PUT", "DELETE"];

/** Why fetch got no answer, in words: undici hides the socket error in `cause`. */
function reasonOf(err: unknown, timeoutMs: number): string {
  const error = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === "TimeoutError" || error.name === "AbortError") return `no answer within ${timeoutMs / 1000} s (timeout)`;
  const code = error.cause?.code ?? "";
  if (code === "ECONNREFUSED") return "connection refused: nothing listens there";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found (DNS)";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "the connection was closed without an answer";
  if (/CERT|SSL|TLS/i.test(code) || /certificate/i.test(error.cause?.message ?? "")) return `TLS failed (${code || error.cause?.message}): the certificate is not trusted for this host`;
  return error.cause?.message ?? error.message ?? String(err);
}

async function send(input: LiveInput, path: string, init: RequestInit): Promise<Answer> {
  let res: Response;
  try {
    // No redirects: a browser does not follow one for a preflight, so the doctor reports it instead.
    res = await fetch(`${input.api}${path}`, { ...init, redirect: "manual", signal: AbortSignal.timeout(input.timeoutMs) });
  } catch (err) {
    throw new Unreachable(reasonOf(err, input.timeoutMs));
  }
  const text = await res.text().catch(() => "");
  let body: Answer["body"] = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed as Answer["body"];
  } catch {
    /* not JSON: not the API's answer */
  }
  return { status: res.status, headers: res.headers, body };
}

/** Runs one check; a request that gets no answer midway becomes that check's ✖ instead of an exception. */
async function attempt(id: string, title: string, run: () => Promise<Check | Check[]>): Promise<Check[]> {
  try {
    return [await run()].flat();
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    return [fail(group, { id, title, detail: `no answer: ${err.message}` }, "the API stopped answering during the checks: look at its log, and at the proxy in front of it")];
  }
}

const browserHeaders = (origin: string | null, extra: Record<string, string> = {}): Record<string, string> => ({
  ...(origin ? { Origin: origin } : {}),
  ...extra,
});

/** Can a page on `origin` read this answer? Only with its exact origin and credentials allowed. */
function readableBy(answer: Answer, origin: string | null): string | null {
  if (!origin) return null;
  const allowOrigin = answer.headers.get("access-control-allow-origin");
  if (allowOrigin !== origin) return `Access-Control-Allow-Origin is ${allowOrigin === null ? "missing" : `'${allowOrigin}'`}, not ${origin}`;
  if (answer.headers.get("access-control-allow-credentials") !== "true") return "Access-Control-Allow-Credentials: true is missing";
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Reachability and what is in front of the API

/** GET /api/health: is it up, is it crossauth, and are its database and Redis answering. */
export async function healthCheck(input: LiveInput): Promise<{ check: Check; up: boolean }> {
  const title = `API at ${input.api}`;
  let answer: Answer;
  try {
    answer = await send(input, "/api/health", {});
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    const fix = `start the API (npm run start:api; npm start in development), or pass --api with the address your pages call (their <meta name="api-uri">)`;
    return { check: fail(group, { id: "api", title, detail: `API down: ${err.message}` }, fix), up: false };
  }
  const location = answer.headers.get("location");
  if (answer.status >= 300 && answer.status < 400) {
    const fix = `use the address it redirects to${location ? ` (${new URL(location, input.api).origin})` : ""} in --api and in the pages' <meta name="api-uri">: browsers do not follow redirects on preflights`;
    return { check: fail(group, { id: "api", title, detail: `redirects (${answer.status}) to ${location ?? "nowhere"}` }, fix), up: false };
  }
  const { body } = answer;
  if (answer.status === 200 && body?.status === "ok") {
    const parts = ["database", "redis"].filter((part) => typeof body[part] === "string").map((part) => `${part} ${body[part]}`);
    return { check: ok(group, { id: "api", title, detail: `GET /api/health 200${parts.length ? ` (${parts.join(", ")})` : ""}` }), up: true };
  }
  if (answer.status === 503 && body?.code) {
    const fix = "start or repair what it names; check DATABASE_URL (and REDIS_URL) in the API's environment";
    return { check: fail(group, { id: "api", title, detail: `GET /api/health 503: ${body.message ?? "unavailable"}` }, fix), up: true };
  }
  const fix = "--api must be the crossauth API's base address (the one the pages' <meta name=\"api-uri\"> names), without /api";
  return { check: fail(group, { id: "api", title, detail: `something else answers: GET /api/health ${answer.status}` }, fix), up: false };
}

/**
 * Is a proxy in front, and does the API trust it? The API sends HSTS only when it believes the request came
 * over https, so a forged `X-Forwarded-Proto: https` tells whether it honours X-Forwarded-* (TRUST_PROXY).
 */
export async function proxyCheck(input: LiveInput): Promise<Check> {
  const title = "Proxy in front of the API";
  const answer = await send(input, "/api/health", { headers: { "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7" } });
  const api = new URL(input.api);
  const sawHttps = answer.headers.has("strict-transport-security");
  const via = answer.headers.get("via");
  const trustFix =
    "set TRUST_PROXY=true on the API, and have the proxy send X-Forwarded-Proto and X-Forwarded-For (Caddy does; nginx: proxy_set_header X-Forwarded-Proto $scheme and X-Forwarded-For $proxy_add_x_forwarded_for)";
  if (api.protocol === "https:" || via) {
    const how = api.protocol === "https:" ? "reached over https, which the API itself never serves" : `reached through a proxy (Via: ${via})`;
    if (sawHttps) return ok(group, { id: "proxy", title, detail: `${how}; the API trusts it (TRUST_PROXY=true) and sees https` });
    const detail = `${how}, but the API sees plain http from the proxy's address: TRUST_PROXY is off or the proxy sends no X-Forwarded-Proto. All users then share one per-IP login limit, and no HSTS is sent`;
    return input.settings.production ? fail(group, { id: "proxy", title, detail }, trustFix) : warn(group, { id: "proxy", title, detail }, trustFix);
  }
  if (!sawHttps) return ok(group, { id: "proxy", title, detail: "none seen; the API ignores X-Forwarded-* (TRUST_PROXY=false), as it should without one" });
  const localOnly = isLoopbackHost(api.hostname) && (isLoopbackHost(input.settings.host) || input.settings.host === "::1");
  if (localOnly) return ok(group, { id: "proxy", title, detail: "the API trusts X-Forwarded-* (TRUST_PROXY=true) and only this machine can reach it directly" });
  return warn(
    group,
    { id: "proxy", title, detail: "the API believed a forged X-Forwarded-Proto over a direct plain-http connection: with TRUST_PROXY=true, any client reaching it directly picks its own address and escapes the per-IP login limit" },
    "set TRUST_PROXY=false when nothing is in front of the API; behind a proxy, bind the API to HOST=127.0.0.1 so only the proxy reaches it",
  );
}

// ---------------------------------------------------------------------------------------------------------
// CORS and CSRF

/** OPTIONS as a page on `origin` sends it before its login: every header the browser insists on. */
export async function preflightCheck(input: LiveInput, origin: string): Promise<Check> {
  const title = `Preflight from ${origin}`;
  const id = `preflight:${origin}`;
  const answer = await send(input, "/api/authenticate", {
    method: "OPTIONS",
    headers: browserHeaders(origin, { "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": NEEDED_HEADERS.join(",") }),
  });
  if (answer.status === 403 && answer.body?.code === "ORIGIN_NOT_ALLOWED") {
    return fail(group, { id, title, detail: "403 ORIGIN_NOT_ALLOWED: the API does not allow this page" }, `add ${origin} to ALLOWED_ORIGINS (exactly: scheme, host, port, no trailing slash) and restart the API`);
  }
  const problems: string[] = [];
  if (answer.status < 200 || answer.status > 299) problems.push(`answered ${answer.status}, not 204`);
  const unreadable = readableBy(answer, origin);
  if (unreadable) problems.push(unreadable);
  const allowHeaders = (answer.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  const missingHeaders = NEEDED_HEADERS.filter((header) => !allowHeaders.includes(header));
  if (missingHeaders.length) problems.push(`Access-Control-Allow-Headers lacks ${missingHeaders.join(", ")}`);
  const allowMethods = (answer.headers.get("access-control-allow-methods") ?? "").toUpperCase().split(/\s*,\s*/);
  const missingMethods = NEEDED_METHODS.filter((method) => !allowMethods.includes(method));
  if (missingMethods.length) problems.push(`Access-Control-Allow-Methods lacks ${missingMethods.join(", ")}`);
  if (problems.length === 0) {
    return ok(group, { id, title, detail: `${answer.status}: allows ${origin} with credentials, headers Content-Type and X-Origin, methods ${NEEDED_METHODS.join(", ")}` });
  }
  const fix = answer.headers.get("access-control-allow-origin") === "*"
    ? "a proxy adds Access-Control-Allow-Origin: * — remove that: browsers refuse it on credentialed requests, and the API sends the exact origin itself"
    : "let OPTIONS requests reach the API unchanged: a proxy (or a CDN/firewall) in front answers them itself or drops the Access-Control-* headers the API sends";
  return fail(group, { id, title, detail: problems.join("; ") }, fix);
}

/** A state-changing request from a page the API does not know must be refused: the cookie is SameSite=None. */
export async function foreignOriginCheck(input: LiveInput): Promise<Check> {
  const title = "POST from a foreign origin";
  const answer = await send(input, "/api/authenticate", {
    method: "POST",
    headers: browserHeaders(FOREIGN_ORIGIN, { "Content-Type": "application/json" }),
    body: "{}",
  });
  const reflected = answer.headers.get("access-control-allow-origin");
  if (answer.status === 403 && answer.body?.code === "ORIGIN_NOT_ALLOWED" && !reflected) {
    return ok(group, { id: "foreign-origin", title, detail: `403 ORIGIN_NOT_ALLOWED for ${FOREIGN_ORIGIN}` });
  }
  const detail = reflected
    ? `the answer allows ${reflected} to read it: any site can use your users' sessions`
    : `answered ${answer.status}${answer.body?.code ? ` ${answer.body.code}` : ""}, not 403 ORIGIN_NOT_ALLOWED: other sites can make logged-in requests (CSRF)`;
  return fail(group, { id: "foreign-origin", title, detail }, "let the Origin header reach the API unchanged (a proxy must not rewrite or drop it) and keep ALLOWED_ORIGINS to your own pages; never let a proxy add Access-Control-Allow-Origin");
}

// ---------------------------------------------------------------------------------------------------------
// One login, the cookie it sets, one authenticated request, one logout

/** Each attribute of the session (or clearing) cookie that is wrong, with its fix (docs/api.md › Session cookie). */
export function cookieProblems(cookie: SetCookie, settings: Settings, clearing: boolean): { fatal: string[]; warnings: string[]; fixes: string[] } {
  const a = cookie.attributes;
  const maxAge = a.get("max-age");
  const rules: Array<[broken: boolean, problem: string]> = [
    [a.get("path") !== "/", `Path is ${a.has("path") ? a.get("path") : "missing"}, not / (a __Host- cookie without Path=/ is dropped)`],
    [a.has("domain"), `Domain=${a.get("domain")} is set (a __Host- cookie with a Domain is dropped)`],
    [!a.has("httponly"), "HttpOnly is missing (page scripts could read the token)"],
    [!a.has("secure"), "Secure is missing (browsers reject SameSite=None without it)"],
    [(a.get("samesite") ?? "").toLowerCase() !== "none", `SameSite is ${a.get("samesite") || "missing"}, not None (not sent on the pages' cross-site calls)`],
    [clearing && maxAge !== "0", `Max-Age is ${maxAge ?? "missing"}, not 0 (the browser keeps the session)`],
    [!clearing && !(Number(maxAge) > 0), `Max-Age is ${maxAge ?? "missing"} (the cookie ends with the browser, or at once)`],
  ];
  const fatal = rules.filter(([broken]) => broken).map(([, problem]) => problem);
  // The API writes every attribute itself (backend/auth/cookies.ts): a wrong one was changed on the way.
  const fixes = fatal.length ? ["a proxy rewrites the cookie (nginx proxy_cookie_path / proxy_cookie_domain / proxy_cookie_flags): let Set-Cookie through unchanged"] : [];
  const warnings: string[] = [];
  if (!clearing && Number(maxAge) > 0 && Number(maxAge) !== settings.ttlSeconds) {
    warnings.push(`Max-Age=${maxAge}, but JWT_TTL_SECONDS is ${settings.ttlSeconds} here`);
    fixes.push("the doctor and the API read different configurations: run the doctor with the API's environment (.env)");
  }
  return { fatal, warnings, fixes };
}

function sessionCookieCheck(cookie: SetCookie, settings: Settings): Check {
  const title = `Set-Cookie ${cookie.name}`;
  const { fatal, warnings, fixes } = cookieProblems(cookie, settings, false);
  const detail = [...fatal, ...warnings].join("; ") || describeAttributes(cookie);
  if (fatal.length) return fail(group, { id: "session-cookie", title, detail }, fixes.join("; "));
  if (warnings.length) return warn(group, { id: "session-cookie", title, detail }, fixes.join("; "));
  return ok(group, { id: "session-cookie", title, detail });
}

function partitionedCheck(cookie: SetCookie, frontends: Frontend[]): Check {
  const title = "Partitioned";
  const crossSite = frontends.filter((f) => f.relation === "cross-site").map((f) => f.origin);
  const has = cookie.attributes.has("partitioned");
  if (crossSite.length === 0) return ok(group, { id: "cookie-partitioned", title, detail: `${has ? "present" : "absent"}; no page is cross-site, so either works` });
  if (has) return ok(group, { id: "cookie-partitioned", title, detail: `present, as the cross-site page${crossSite.length > 1 ? "s" : ""} ${crossSite.join(", ")} need${crossSite.length > 1 ? "" : "s"}` });
  return fail(
    group,
    { id: "cookie-partitioned", title, detail: `missing, but ${crossSite.join(", ")} ${crossSite.length > 1 ? "are" : "is"} cross-site: Chromium and Safari block the cookie there, and the login looks like it failed` },
    "set COOKIE_PARTITIONED=true on the API (the default); if it is set, a proxy strips the Partitioned attribute",
  );
}

/** The clearing cookie must match the session cookie's attributes, or the browser keeps the session. */
function logoutCheck(status: number, clearing: SetCookie | undefined, session: SetCookie, settings: Settings, stillValid: boolean): Check {
  const title = "Logout (DELETE /api/authenticate)";
  if (status !== 200) return fail(group, { id: "logout", title, detail: `answered ${status}, not 200` }, "look at the API's log for this request; a proxy must let DELETE through");
  if (!clearing) return fail(group, { id: "logout", title, detail: `no clearing ${session.name} cookie in the answer` }, "a proxy strips Set-Cookie from DELETE answers: let it through");
  const { fatal, fixes } = cookieProblems(clearing, settings, true);
  for (const key of ["path", "domain", "samesite", "secure", "httponly", "partitioned"]) {
    if (clearing.attributes.get(key) !== session.attributes.get(key)) fatal.push(`${key} differs from the session cookie's (the browser treats it as another cookie)`);
  }
  if (stillValid) fatal.push("the old token still works after logout");
  if (fatal.length) return fail(group, { id: "logout", title, detail: fatal.join("; ") }, fixes.join("; ") || "the API sends both cookies from one place: a proxy rewrites one of them");
  return ok(group, { id: "logout", title, detail: "200, clearing cookie with Max-Age=0 and the same attributes; the token no longer works" });
}

/** Logs in once (as a page on `origin` would), checks the cookie, uses it once, and logs out. */
export async function sessionChecks(input: LiveInput, origin: string | null): Promise<Check[]> {
  const { credentials, settings } = input;
  if (!credentials) {
    return [warn(group, { id: "login", title: "Login", detail: "not tried: no account to log in with, so the cookie was not checked" }, "set DOCTOR_UID and DOCTOR_PASSWORD (an account the doctor may log in and out with), or pass --uid and --password")];
  }
  const from = origin ? `from ${origin}` : "without an Origin (no page origin passed its preflight)";
  const title = `Login as ${credentials.uid} ${from}`;
  const login = await send(input, "/api/authenticate", {
    method: "POST",
    headers: browserHeaders(origin, { "Content-Type": "application/json", "X-Origin": "client" }),
    body: JSON.stringify({ uid: credentials.uid, password: credentials.password }),
  });
  if (login.status !== 200) return [loginFailure(login, title, credentials)];
  const unreadable = readableBy(login, origin);
  const checks = [unreadable ? fail(group, { id: "login", title, detail: `200, but the page cannot read it: ${unreadable}` }, "a proxy drops or rewrites the API's Access-Control-* headers on POST: let them through") : ok(group, { id: "login", title, detail: "200" })];

  const cookies = login.headers.getSetCookie().map(parseSetCookie);
  if (cookies.length === 0) {
    return [...checks, fail(group, { id: "session-cookie", title: "Set-Cookie", detail: "the login answer (200) has no Set-Cookie header: something between here and the API strips it" }, "the proxy in front of the API removes Set-Cookie: make it pass the header through (nginx: no proxy_hide_header Set-Cookie; Caddy: no header_down -Set-Cookie; a CDN must not cache or strip /api/*)")];
  }
  const session = cookies.find((cookie) => cookie.name === settings.cookieName);
  if (!session) {
    const names = cookies.map((cookie) => cookie.name).join(", ");
    return [...checks, fail(group, { id: "session-cookie", title: "Set-Cookie", detail: `no ${settings.cookieName} cookie (got: ${names})` }, "JWT_TOKEN_NAME differs between the doctor's configuration and the API's, or a proxy renames cookies")];
  }
  checks.push(sessionCookieCheck(session, settings), partitionedCheck(session, input.frontends));
  const cookieHeader = { Cookie: `${session.name}=${session.value}` };
  checks.push(...(await attempt("session", "GET /api/id with the cookie", () => sessionUseCheck(input, origin, cookieHeader))));
  checks.push(...(await attempt("logout", "Logout", async () => {
    const logout = await send(input, "/api/authenticate", { method: "DELETE", headers: browserHeaders(origin, cookieHeader) });
    const clearing = logout.headers.getSetCookie().map(parseSetCookie).find((c) => c.name === session.name);
    const after = await send(input, "/api/id", { headers: cookieHeader });
    return logoutCheck(logout.status, clearing, session, settings, after.status === 200);
  })));
  return checks;
}

function loginFailure(answer: Answer, title: string, credentials: Credentials): Check {
  const code = answer.body?.code ?? `HTTP ${answer.status}`;
  if (code === "INVALID_CREDENTIALS" || code === "UID_MISSING" || code === "PASSWORD_MISSING") {
    return fail(group, { id: "login", title, detail: `401 ${code}: wrong uid or password for '${credentials.uid}'` }, credentials.howToChange);
  }
  if (code === "RATE_LIMITED") {
    const wait = answer.headers.get("retry-after");
    return fail(group, { id: "login", title, detail: `429 RATE_LIMITED${wait ? ` (retry after ${wait} s)` : ""}: too many attempts from here or for this account` }, "wait and run the doctor again; behind a proxy, check TRUST_PROXY (without it every user shares one limit)");
  }
  if (code === "ORIGIN_NOT_ALLOWED") return fail(group, { id: "login", title, detail: "403 ORIGIN_NOT_ALLOWED" }, "add the page's origin to ALLOWED_ORIGINS");
  return fail(group, { id: "login", title, detail: `${answer.status} ${code}${answer.body?.message ? `: ${answer.body.message}` : ""}` }, "look at the API's log for this request");
}

async function sessionUseCheck(input: LiveInput, origin: string | null, cookieHeader: Record<string, string>): Promise<Check> {
  const title = "GET /api/id with the cookie";
  const answer = await send(input, "/api/id", { headers: browserHeaders(origin, cookieHeader) });
  if (answer.status === 200) {
    const unreadable = readableBy(answer, origin);
    if (unreadable) return fail(group, { id: "session", title, detail: `200, but the page cannot read it: ${unreadable}` }, "a proxy drops or rewrites the API's Access-Control-* headers on GET: let them through");
    return ok(group, { id: "session", title, detail: `200: the API knows the session (${String(answer.body?.uid ?? "?")})` });
  }
  return fail(
    group,
    { id: "session", title, detail: `${answer.status} ${answer.body?.code ?? ""}: the API refused the cookie it had just issued`.replace("  ", " ") },
    "if several API processes run, give them all the same JWT_SECRET (and one database); a proxy may drop the Cookie header",
  );
}

/** Every live check, in the order a page meets them. Stops after the first if the API does not answer. */
export async function liveChecks(input: LiveInput): Promise<Check[]> {
  const health = await healthCheck(input);
  if (!health.up) return [health.check];
  const checks: Check[] = [health.check];
  checks.push(...(await attempt("proxy", "Proxy in front of the API", () => proxyCheck(input))));
  const preflights: Check[] = [];
  for (const { origin } of input.frontends) preflights.push(...(await attempt(`preflight:${origin}`, `Preflight from ${origin}`, () => preflightCheck(input, origin))));
  checks.push(...preflights);
  checks.push(...(await attempt("foreign-origin", "POST from a foreign origin", () => foreignOriginCheck(input))));
  // The login is made once, from the first page the API lets in (so its cookie is checked as that page gets it).
  const allowed = input.frontends.find(({ origin }) => preflights.some((check) => check.id === `preflight:${origin}` && check.status === "ok"));
  checks.push(...(await attempt("login", "Login", () => sessionChecks(input, allowed?.origin ?? null))));
  return checks;
}
