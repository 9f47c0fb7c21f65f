// How a page's origin relates to the API's: same-origin, same-site or cross-site. The browser decides with the
// Public Suffix List whether two hosts are one "site" (docs/api.md › Topologies), so the doctor asks tldts, a
// maintained copy of that list. Private suffixes count: github.io is a public suffix, so every *.github.io
// page is a site of its own, and a cookie from api.example.com is third-party there.
import { getDomain, parse } from "tldts";

export type Relation = "same-origin" | "same-site" | "cross-site";

/** Hosts browsers treat as secure even over plain http (they accept and send `Secure` cookies there). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host) || host === "[::1]";
}

/** http(s) on loopback, or https anywhere: where a `Secure` cookie can be set and sent. */
export function isSecureUrl(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

/**
 * The registrable domain ("eTLD+1") of a host, or the host itself when it has none: an IP address,
 * `localhost`, or a public suffix such as `github.io` used as a host.
 */
export function registrableDomain(hostname: string): string {
  const host = hostname.toLowerCase();
  if (host.startsWith("[") || parse(host).isIp) return host;
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/** Schemeful site: http://example.com and https://example.com are different sites to today's browsers. */
export function siteOf(url: URL): string {
  return `${url.protocol}//${registrableDomain(url.hostname)}`;
}

export function relationOf(page: URL, api: URL): Relation {
  if (page.origin === api.origin) return "same-origin";
  return siteOf(page) === siteOf(api) ? "same-site" : "cross-site";
}

export interface OriginAnalysis {
  /** The origin a browser on that page really sends in `Origin`, or null when the entry cannot be one. */
  origin: string | null;
  /** What is wrong with the entry as written, each with its fix; empty when it is exact. */
  problems: { detail: string; fix: string }[];
}

/**
 * Whether an ALLOWED_ORIGINS entry is exactly what a browser sends as `Origin` (scheme://host[:port], lower
 * case, no default port, no path). The API compares strings, so any difference means "not allowed".
 */
export function analyzeOrigin(entry: string): OriginAnalysis {
  if (entry.includes("*")) {
    return { origin: null, problems: [{ detail: `'${entry}' is a wildcard`, fix: "list each page's exact origin instead, e.g. https://you.github.io: credentialed CORS never works with wildcards" }] };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    // "localhost:4100" even parses as a URL, with the scheme "localhost:": say what was meant.
    const guess = `${/^(localhost|127\.|\[::1\])/i.test(entry) ? "http" : "https"}://${entry.replace(/^\/+/, "")}`;
    const suggestion = URL.canParse(guess) ? new URL(guess).origin : guess;
    return { origin: URL.canParse(guess) ? suggestion : null, problems: [{ detail: `'${entry}' has no scheme`, fix: `write it with its scheme: ${suggestion}` }] };
  }
  if (!URL.canParse(entry)) return { origin: null, problems: [{ detail: `'${entry}' is not a URL`, fix: "write it as scheme://host[:port], e.g. https://you.github.io" }] };
  const url = new URL(entry);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { origin: null, problems: [{ detail: `'${entry}' is not an http(s) origin`, fix: "pages that log in are served over https:// (or http:// on localhost)" }] };
  }
  const problems: { detail: string; fix: string }[] = [];
  const authority = entry.slice(entry.indexOf("//") + 2).split(/[/?#]/)[0];
  const rest = entry.slice(entry.indexOf("//") + 2 + authority.length);
  if (rest === "/") problems.push({ detail: `'${entry}' ends with a slash`, fix: `remove the trailing slash: ${url.origin}` });
  else if (rest !== "") problems.push({ detail: `'${entry}' has a path`, fix: `an origin has no path: ${url.origin}` });
  if (url.username || url.password) problems.push({ detail: `'${entry}' has a user name or password`, fix: `remove it: ${url.origin}` });
  const writtenPort = /:(\d+)$/.exec(authority)?.[1];
  if (writtenPort !== undefined && url.port === "") {
    problems.push({ detail: `'${entry}' names the default port ${writtenPort}`, fix: `browsers leave the default port out of Origin: write ${url.origin}` });
  }
  if (problems.length === 0 && url.origin !== entry) {
    const detail = entry.toLowerCase() === url.origin ? `'${entry}' has capital letters` : `'${entry}' is not written as browsers send it`;
    problems.push({ detail, fix: `browsers send ${url.origin}: write exactly that` });
  }
  return { origin: url.origin, problems };
}
