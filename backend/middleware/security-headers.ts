// Security headers on every response (docs/api.md › Abuse resistance). Fixed headers need no library.
import type { Context, Next } from "koa";

export const SECURITY_HEADERS = Object.freeze({
  "X-Content-Type-Options": "nosniff",
  // The API serves JSON only: nothing may be loaded, framed or executed from its responses.
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  // Responses carry personal data and session state: never cache them anywhere.
  "Cache-Control": "no-store",
});

/**
 * Sent only on responses that reached the browser over HTTPS (directly, or through a proxy trusted with
 * TRUST_PROXY): over plain http the header is ignored, and on localhost it would pin every port to https.
 */
const HSTS = "max-age=31536000";

const ENTRIES = Object.entries(SECURITY_HEADERS);

export function securityHeaders(ctx: Context, next: Next) {
  for (const [name, value] of ENTRIES) ctx.res.setHeader(name, value);
  if (ctx.secure) ctx.res.setHeader("Strict-Transport-Security", HSTS);
  return next();
}
