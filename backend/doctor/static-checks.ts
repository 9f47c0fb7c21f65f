// Checks from configuration alone: what the API would refuse at start, how each page's origin relates to the
// API (docs/api.md › Topologies), and whether the cookie the API will send can work there.
import { passkeyReadiness } from "../passkeys/rp-check";
import { fail, ok, warn, type Check } from "./report";
import { splitRefusal, type ConfigReading, type Settings } from "./settings";
import { analyzeOrigin, isLoopbackHost, isSecureUrl, relationOf, type Relation } from "./sites";

export interface Frontend {
  origin: string;
  relation: Relation;
}

const group = "configuration";

/** The refusals loadConfig would print, one ✖ each, less those an origin check below explains better. */
export function refusalChecks(reading: ConfigReading, explainedOrigins: string[]): Check[] {
  const refusals = reading.refusals.filter((refusal) => !explainedOrigins.some((entry) => refusal.startsWith(`ALLOWED_ORIGINS: '${entry}'`)));
  const checks = refusals.map((refusal) => {
    const { variable, problem, fix } = splitRefusal(refusal);
    return fail(group, { id: `refusal:${variable}`, title: `The API refuses to start: ${variable}`, detail: problem }, fix ?? `fix ${variable}: ${problem}`);
  });
  if (reading.refusals.length === 0) {
    const mode = reading.settings.production ? "NODE_ENV=production" : `NODE_ENV=${reading.settings.nodeEnv}`;
    const later = reading.productionRefusals.map((refusal) => splitRefusal(refusal).variable);
    const detail = later.length === 0 ? `${mode}` : `${mode}; NODE_ENV=production would also need: ${[...new Set(later)].join(", ")}`;
    checks.push(ok(group, { id: "configuration", title: "The API accepts this configuration", detail }));
  }
  return checks;
}

/** Dangers the API only logs (development accounts on a HOST other machines can reach). */
export function dangerChecks(reading: ConfigReading): Check[] {
  return reading.loudWarnings.map((danger) =>
    fail(group, { id: "development-accounts", title: "Development accounts on a reachable API", detail: danger }, "set DEMO_USERS=false and a strong ADMIN_PASSWORD, or bind the API to HOST=127.0.0.1"),
  );
}

/** JWT_SECRET: production already refuses a weak one (see the refusals); in development, say whether it would. */
export function secretChecks(reading: ConfigReading): Check[] {
  const title = "JWT_SECRET";
  const { settings } = reading;
  if (reading.refusals.some((refusal) => refusal.startsWith("JWT_SECRET:"))) return [];
  if (settings.production) return [ok(group, { id: "jwt-secret", title, detail: "set, 32+ characters, looks random" })];
  if (!settings.jwtSecretSet) return [ok(group, { id: "jwt-secret", title, detail: "not set: development generates one into the data directory (production needs its own)" })];
  const later = reading.productionRefusals.find((refusal) => refusal.startsWith("JWT_SECRET:"));
  if (!later) return [ok(group, { id: "jwt-secret", title, detail: "set, strong enough for production" })];
  const { problem, fix } = splitRefusal(later);
  return [warn(group, { id: "jwt-secret", title, detail: `production would refuse it: ${problem}` }, fix ?? "use a long random key")];
}

/** Each ALLOWED_ORIGINS entry must be exactly what a browser sends as `Origin`. */
export function originFormatChecks(settings: Settings): Check[] {
  const title = "ALLOWED_ORIGINS";
  if (settings.allowedOrigins.length === 0) {
    return [fail(group, { id: "allowed-origins", title, detail: "empty: no page may log in" }, "set ALLOWED_ORIGINS to your pages' origins, e.g. ALLOWED_ORIGINS=https://you.github.io")];
  }
  const broken = settings.allowedOrigins
    .map((entry) => ({ entry, analysis: analyzeOrigin(entry) }))
    .filter(({ analysis }) => analysis.problems.length > 0);
  if (broken.length === 0) {
    return [ok(group, { id: "allowed-origins", title, detail: `${settings.allowedOrigins.join(", ")}: exact origins` })];
  }
  return broken.map(({ entry, analysis }) =>
    fail(
      group,
      { id: `allowed-origins:${entry}`, title, detail: `${analysis.problems.map((p) => p.detail).join("; ")}: browsers never send that, and the API refuses to start with it` },
      `in ALLOWED_ORIGINS, ${analysis.problems.map((p) => p.fix).join("; ")}`,
    ),
  );
}

/** `npm start` serves the pages on FRONTEND_PORT: with ALLOWED_ORIGINS set by hand, is that port listed? */
export function frontendPortCheck(settings: Settings, api: URL): Check[] {
  // Only a local API in development is one `npm start` runs.
  if (settings.production || !settings.allowedOriginsSet || !isLoopbackHost(api.hostname)) return [];
  const served = [`http://localhost:${settings.frontendPort}`, `http://127.0.0.1:${settings.frontendPort}`];
  if (settings.allowedOrigins.some((entry) => served.includes(analyzeOrigin(entry).origin ?? ""))) return [];
  return [
    warn(
      group,
      { id: "frontend-port", title: "The pages of `npm start`", detail: `npm start serves them on ${served[0]}, which ALLOWED_ORIGINS does not list` },
      `add ${served[0]} to ALLOWED_ORIGINS, or set FRONTEND_PORT to the port your pages use`,
    ),
  ];
}

/** A page named with --frontend that ALLOWED_ORIGINS does not list is refused by CORS and the CSRF check. */
export function frontendAllowedChecks(settings: Settings, frontends: Frontend[]): Check[] {
  const allowed = new Set(settings.allowedOrigins);
  return frontends
    .filter((frontend) => !allowed.has(frontend.origin))
    .map((frontend) =>
      fail(
        group,
        { id: `not-allowed:${frontend.origin}`, title: `${frontend.origin} is not in ALLOWED_ORIGINS`, detail: "the API refuses its preflights and its logins (403 ORIGIN_NOT_ALLOWED)" },
        `add ${frontend.origin} to ALLOWED_ORIGINS (comma-separated, exactly as written here) and restart the API`,
      ),
    );
}

const RELATION_WORDS: Record<Relation, string> = {
  "same-origin": "same origin",
  "same-site": "same site, another origin: the cookie is first-party",
  "cross-site": "cross-site: the API's cookie is a third-party cookie on that page",
};

/** Per page: how it relates to the API, and whether the cookie's Partitioned setting fits that. */
export function relationChecks(settings: Settings, api: URL, frontends: Frontend[]): Check[] {
  return frontends.flatMap(({ origin, relation }) => {
    const title = `${origin} → ${api.origin}`;
    const found = ok(group, { id: `relation:${origin}`, title, detail: RELATION_WORDS[relation] });
    if (relation !== "cross-site") return [found];
    const partitioned = settings.partitioned
      ? ok(group, { id: `partitioned:${origin}`, title: `Partitioned cookie for ${origin}`, detail: "COOKIE_PARTITIONED=true: browsers keep it in that site's partition" })
      : fail(
          group,
          { id: `partitioned:${origin}`, title: `Partitioned cookie for ${origin}`, detail: "COOKIE_PARTITIONED=false: Chromium and Safari block this unpartitioned third-party cookie, so the login seems to work and the next request is logged out" },
          "set COOKIE_PARTITIONED=true (the default) on the API",
        );
    return [found, partitioned];
  });
}

/**
 * The cookie is always `Secure` (SameSite=None requires it), and browsers only accept Secure cookies from
 * https, or from http on loopback. An https page may not call a plain-http API either (mixed content).
 */
export function transportCheck(api: URL, frontends: Frontend[]): Check {
  const title = `API transport (${api.protocol.replace(":", "")})`;
  if (isSecureUrl(api)) {
    const detail = api.protocol === "https:" ? "https: Secure cookies work everywhere" : "plain http on loopback: browsers accept Secure cookies here, for local use only";
    return ok(group, { id: "transport", title, detail });
  }
  const secured = frontends.filter((frontend) => frontend.origin.startsWith("https:"));
  const mixed = secured.length > 0 ? `; and ${secured.map((f) => f.origin).join(", ")} may not call it at all (mixed content)` : "";
  return fail(
    group,
    { id: "transport", title, detail: `${api.origin} is plain http on a host that is not loopback: browsers refuse the Secure session cookie from it${mixed}` },
    `serve the API over HTTPS (e.g. Caddy or nginx in front, with TRUST_PROXY=true) and point the pages' <meta name="api-uri"> (and --api) at https://${api.host}`,
  );
}

/** Pages served over plain http from a real host cannot keep a cross-site cookie in all browsers. */
export function pageTransportChecks(frontends: Frontend[]): Check[] {
  return frontends
    .filter(({ origin }) => !isSecureUrl(new URL(origin)))
    .map(({ origin }) =>
      warn(
        group,
        { id: `page-transport:${origin}`, title: `${origin} is plain http`, detail: "a page on plain http (other than localhost) is not a secure context: browsers may refuse its cookies, and production refuses the origin" },
        `serve the page over https and list https://${new URL(origin).host} in ALLOWED_ORIGINS`,
      ),
    );
}

/** What the API will send, from configuration: the cookie's name and Partitioned setting. */
export function cookieConfigCheck(settings: Settings, frontends: Frontend[]): Check {
  const title = `Session cookie ${settings.cookieName}`;
  const attributes = `Path=/; Max-Age=${settings.ttlSeconds}; HttpOnly; Secure; SameSite=None${settings.partitioned ? "; Partitioned" : ""}`;
  if (!settings.cookieName.startsWith("__Host-")) {
    return warn(
      group,
      { id: "cookie-name", title, detail: `${attributes}; no __Host- prefix, so a sibling subdomain can overwrite it` },
      "set JWT_TOKEN_NAME=__Host-jwt_token (the default): __Host- pins the cookie to the API's exact host",
    );
  }
  const note = frontends.some((f) => f.relation === "cross-site") || settings.partitioned ? "" : " (no page is cross-site, so Partitioned is not needed)";
  return ok(group, { id: "cookie-name", title, detail: `${attributes}${note}` });
}

/** Every check that needs no running API. */
export function configurationChecks(reading: ConfigReading, api: URL, frontends: Frontend[], frontendsGiven: boolean): Check[] {
  const { settings } = reading;
  const broken = settings.allowedOrigins.filter((entry) => analyzeOrigin(entry).problems.length > 0);
  return [
    ...refusalChecks(reading, broken),
    ...dangerChecks(reading),
    ...secretChecks(reading),
    ...originFormatChecks(settings),
    ...frontendPortCheck(settings, api),
    ...(frontendsGiven ? frontendAllowedChecks(settings, frontends) : []),
    transportCheck(api, frontends),
    // Production already refuses plain-http origins (a refusal above says so).
    ...(settings.production ? [] : pageTransportChecks(frontends)),
    ...relationChecks(settings, api, frontends),
    cookieConfigCheck(settings, frontends),
    ...passkeyChecks(reading, frontends),
  ];
}

/**
 * Where passkeys can work with this relying-party ID (passkeys/rp-check.ts), for the same pages. A page on a
 * loopback address that is also listed as localhost (the development default lists both names of the one
 * frontend) is not a fault of the setup: the IP-address page says so and offers the password, the localhost
 * one offers passkeys.
 */
export function passkeyChecks(reading: ConfigReading, frontends: Frontend[]): Check[] {
  if (!reading.config) return []; // the refusals above already say why the API would not start
  const origins = frontends.map((frontend) => frontend.origin);
  const alsoOnLocalhost = (page: URL) => isLoopbackHost(page.hostname) && page.hostname !== "localhost" && origins.includes(`${page.protocol}//localhost${page.port ? `:${page.port}` : ""}`);
  return passkeyReadiness(reading.config, origins).map(({ id, status, title, detail, fix }) => {
    const page = id.startsWith("passkeys-page:") ? new URL(id.slice("passkeys-page:".length)) : null;
    if (status === "warn" && page && alsoOnLocalhost(page)) return ok(group, { id, title, detail: `${detail} Sign-in there uses the password.` });
    return status === "ok" ? ok(group, { id, title, detail }) : status === "warn" ? warn(group, { id, title, detail }, fix ?? "") : fail(group, { id, title, detail }, fix ?? "");
  });
}

/** Each page origin with its relation to the API. */
export function frontendsOf(origins: string[], api: URL): Frontend[] {
  return origins.map((origin) => ({ origin, relation: relationOf(new URL(origin), api) }));
}
