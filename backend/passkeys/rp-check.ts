// Whether a page can use passkeys with this server's relying-party ID, in plain words (docs/passkeys.md › The RP
// ID). Pure functions of the configuration: the options routes ask passkeyOriginProblem() before any ceremony
// starts, and the doctor reports passkeyReadiness().
import { originServesRpId, rpIdProblem } from "../config.accounts";
import type { Config } from "../config";

type WebauthnConfig = Config["webauthn"];
export type ReadinessConfig = Pick<Config, "webauthn" | "allowedOrigins" | "publicApiUrl">;

/** One line of the doctor's report: ✔ ok, ! warn (works, but not everywhere), ✖ fail; `fix` for the last two. */
export interface PasskeyCheck {
  id: string;
  status: "ok" | "warn" | "fail";
  title: string;
  detail: string;
  fix?: string;
}

const isIpAddress = (host: string) => /^\[.*\]$/.test(host) || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
const isSecure = (url: URL) => url.protocol === "https:" || url.hostname === "localhost" || url.hostname.endsWith(".localhost");
const elsewhere = (webauthn: WebauthnConfig) => (webauthn.origins.length > 0 ? ` Passkeys work on ${webauthn.origins.join(" and ")}.` : "");

/**
 * Why a page on `origin` cannot start a passkey ceremony here, in words for the person and the operator, or null
 * when it can. No Origin header (curl, Postman) is not a page: nothing to check, the verification still checks the
 * origin the browser signed.
 */
export function passkeyOriginProblem(webauthn: WebauthnConfig, origin: string | undefined): string | null {
  if (webauthn.rpId === null) {
    return "Passkeys are off on this server: none of its pages has an address that can use them (pages on an IP address such as 127.0.0.1 cannot). Open the site under a host name such as localhost, or ask its administrator to set WEBAUTHN_RP_ID.";
  }
  if (!origin) return null;
  if (webauthn.origins.includes(origin)) return null;
  const url = URL.canParse(origin) ? new URL(origin) : null;
  if (!url || url.origin === "null") return `This page has no address passkeys can be tied to (origin ${origin.slice(0, 100)}).${elsewhere(webauthn)}`;
  if (isIpAddress(url.hostname)) {
    return `This page is on an IP address (${url.hostname}), and browsers allow passkeys only on pages with a host name.${elsewhere(webauthn)}`;
  }
  if (!isSecure(url)) return `Passkeys need a secure page: this one is plain http on ${url.hostname}. Open it over https.${elsewhere(webauthn)}`;
  if (!originServesRpId(origin, webauthn.rpId)) {
    return `Passkeys here belong to ${webauthn.rpId}, and this page (${url.hostname}) is neither ${webauthn.rpId} nor under it.${elsewhere(webauthn)}`;
  }
  return `This page (${origin}) is not one of the pages this server accepts passkeys from (WEBAUTHN_ORIGINS).${elsewhere(webauthn)}`;
}

/** The host the API is reached at, when the configuration says (PUBLIC_API_URL). */
export function apiHostOf(config: Pick<Config, "publicApiUrl">): string | null {
  return config.publicApiUrl && URL.canParse(config.publicApiUrl) ? new URL(config.publicApiUrl).hostname : null;
}

/**
 * The relying-party situation as the doctor reports it: the RP ID, the pages that can use it, each page origin
 * (`origin`, or every ALLOWED_ORIGINS entry) and, with related origins on, who serves /.well-known/webauthn.
 */
export function passkeyReadiness(config: ReadinessConfig, origin?: string | string[]): PasskeyCheck[] {
  const { webauthn } = config;
  const checks: PasskeyCheck[] = [];
  const apiHost = apiHostOf(config);
  const pages = origin === undefined ? [...config.allowedOrigins] : typeof origin === "string" ? [origin] : origin;

  if (webauthn.rpId === null) {
    checks.push({
      id: "passkeys-rp-id",
      status: "warn",
      title: "Passkeys: relying-party ID",
      detail: `Passkeys are off: no ALLOWED_ORIGINS entry can be a relying-party ID (${config.allowedOrigins.join(", ") || "none listed"}); an IP address or a plain-http page other than localhost cannot.`,
      fix: "Serve the frontend under a host name — http://localhost:<port> in development, https://your.domain in production — and list it in ALLOWED_ORIGINS; or set WEBAUTHN_RP_ID to that host.",
    });
    return checks;
  }

  const problem = rpIdProblem(webauthn.rpId);
  const apiNote = apiHost && apiHost === webauthn.rpId && !webauthn.origins.some((o) => new URL(o).hostname === apiHost) ? ` It is the API's host (${apiHost}): the RP ID must be the pages' host or a registrable suffix of it, never the API's.` : "";
  checks.push(
    problem
      ? { id: "passkeys-rp-id", status: "fail", title: "Passkeys: relying-party ID", detail: `WEBAUTHN_RP_ID=${webauthn.rpId}: ${problem}.`, fix: "Set WEBAUTHN_RP_ID to your frontend's host or a registrable suffix of it (app.example.com or example.com), or leave it unset." }
      : { id: "passkeys-rp-id", status: "ok", title: "Passkeys: relying-party ID", detail: `The relying-party ID is ${webauthn.rpId}: passkeys made here work on ${webauthn.rpId} and the pages under it.${apiNote}` },
  );

  checks.push(
    webauthn.origins.length === 0
      ? {
          id: "passkeys-origins",
          status: "fail",
          title: "Passkeys: pages that can use them",
          detail: `No page can use passkeys: no ALLOWED_ORIGINS entry is ${webauthn.rpId} or under it over https.${apiNote}`,
          fix: `Set WEBAUTHN_RP_ID to the host of your frontend's pages (or a registrable suffix of it, such as example.com for app.example.com), or add a page on ${webauthn.rpId} to ALLOWED_ORIGINS.`,
        }
      : { id: "passkeys-origins", status: "ok", title: "Passkeys: pages that can use them", detail: `Passkey ceremonies are accepted from ${webauthn.origins.join(", ")}.` },
  );

  for (const page of pages) {
    const why = passkeyOriginProblem(webauthn, page);
    checks.push(
      why === null
        ? { id: `passkeys-page:${page}`, status: "ok", title: `Passkeys on ${page}`, detail: `A page on ${page} can register and use passkeys for ${webauthn.rpId}.` }
        : {
            id: `passkeys-page:${page}`,
            status: "warn",
            title: `Passkeys on ${page}`,
            detail: why,
            fix: fixFor(webauthn, page),
          },
    );
  }

  if (webauthn.relatedOrigins) {
    const wellKnown = `https://${webauthn.rpId}/.well-known/webauthn`;
    const outside = webauthn.origins.filter((o) => !originServesRpId(o, webauthn.rpId as string));
    const body = JSON.stringify({ origins: webauthn.origins });
    if (apiHost === webauthn.rpId) {
      const https = config.publicApiUrl?.startsWith("https://");
      checks.push(
        https
          ? { id: "passkeys-related-origins", status: "ok", title: "Passkeys: related origins", detail: `The API serves ${wellKnown} listing ${webauthn.origins.join(", ")}.` }
          : {
              id: "passkeys-related-origins",
              status: "warn",
              title: "Passkeys: related origins",
              detail: `The API serves /.well-known/webauthn, but browsers fetch it only from ${wellKnown} and PUBLIC_API_URL is ${config.publicApiUrl}.`,
              fix: "Serve the API over https on its own host (port 443), or serve that file there yourself.",
            },
      );
    } else if (outside.length > 0) {
      checks.push({
        id: "passkeys-related-origins",
        status: "warn",
        title: "Passkeys: related origins",
        detail: `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} outside ${webauthn.rpId}: browsers allow ${outside.length === 1 ? "it" : "them"} only when ${wellKnown} lists ${outside.length === 1 ? "it" : "them"}, and the API (${apiHost ?? "PUBLIC_API_URL unset"}) is not on ${webauthn.rpId}, so it cannot serve that file.`,
        fix: `Serve ${wellKnown} from the site on ${webauthn.rpId} with Content-Type application/json and this content: ${body}`,
      });
    }
  }
  return checks;
}

function fixFor(webauthn: WebauthnConfig, page: string): string {
  const url = URL.canParse(page) ? new URL(page) : null;
  const use = webauthn.origins.length > 0 ? `Open the site at ${webauthn.origins[0]} to use passkeys` : `Serve a page on ${webauthn.rpId}`;
  if (url && isIpAddress(url.hostname)) return `${use}: a page on an IP address can never use them. Logins with a password still work there.`;
  if (url && !isSecure(url)) return `Serve ${url.host} over https (browsers allow passkeys only on secure pages), or ${use.charAt(0).toLowerCase()}${use.slice(1)}.`;
  if (url && !originServesRpId(page, webauthn.rpId as string)) {
    return `Use a relying-party ID both hosts share (WEBAUTHN_RP_ID set to a registrable suffix of ${url.hostname}), or list ${page} in WEBAUTHN_ORIGINS with WEBAUTHN_RELATED_ORIGINS=true and serve https://${webauthn.rpId}/.well-known/webauthn.`;
  }
  return `Add ${page} to WEBAUTHN_ORIGINS (or leave WEBAUTHN_ORIGINS unset: it then lists every ALLOWED_ORIGINS page under ${webauthn.rpId}).`;
}
