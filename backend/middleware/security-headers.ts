// Security headers on every response (docs/api.md › Abuse resistance). Four fixed headers need no library.
import type { Context, Next } from "koa";

const HEADERS = {
  "X-Content-Type-Options": "nosniff",
  // The API serves JSON only: nothing may be loaded, framed or executed from its responses.
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  // Responses carry personal data and session state: never cache them anywhere.
  "Cache-Control": "no-store",
};

export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set(HEADERS);
  await next();
}
