// CSRF defence (docs/api.md › CORS and CSRF) and CORS. The session cookie is SameSite=None, so the browser attaches it to
// cross-site requests: the server itself must refuse state changes coming from pages it does not trust.
import cors from "@koa/cors";
import type { Context, Next } from "koa";
import { AppError } from "../errors";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The origin check, then CORS (which answers preflights before any token check). */
export function originPolicy(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  const corsPolicy = cors({
    // An allowlist function: without it @koa/cors with credentials reflects any origin, even "null".
    origin: (ctx: Context) => (allowed.has(ctx.get("Origin")) ? ctx.get("Origin") : ""),
    credentials: true,
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowHeaders: ["Content-Type", "X-Origin"],
    exposeHeaders: ["Retry-After", "X-Request-Id"],
    maxAge: 600,
  });

  return function checkOrigin(ctx: Context, next: Next) {
    const origin = ctx.get("Origin");
    // No Origin header: curl, Postman, server-to-server; browsers always send one on these requests. Nothing
    // for CORS to add but the Vary that @koa/cors sets on every answer.
    if (origin === "") {
      ctx.vary("Origin");
      return next();
    }
    // "null" (sandboxed iframes, file:// pages) is refused like any unknown origin.
    const isPreflight = ctx.method === "OPTIONS" && ctx.get("Access-Control-Request-Method") !== "";
    if (!allowed.has(origin) && (STATE_CHANGING.has(ctx.method) || isPreflight)) {
      throw new AppError("ORIGIN_NOT_ALLOWED", `Requests from origin '${origin.slice(0, 200)}' are not allowed; add it to ALLOWED_ORIGINS`);
    }
    return corsPolicy(ctx, next);
  };
}
