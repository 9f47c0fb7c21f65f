// JSON-only request bodies (SPEC §5.6): a cross-site HTML form cannot send application/json without a
// CORS preflight, so refusing every other type closes the "simple request" CSRF door.
import bodyParser from "koa-bodyparser";
import type { Context, Next } from "koa";
import { AppError } from "../errors";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function hasBody(ctx: Context): boolean {
  const length = ctx.get("Content-Length");
  return ctx.get("Transfer-Encoding") !== "" || (length !== "" && length !== "0");
}

export function jsonBody(limit: string) {
  const parser = bodyParser({ enableTypes: ["json"], jsonLimit: limit, strict: true });
  const noop = async () => undefined;
  return async function parseJsonBody(ctx: Context, next: Next) {
    if (BODY_METHODS.has(ctx.method) && hasBody(ctx)) {
      if (ctx.is("application/json") === false) throw new AppError("UNSUPPORTED_MEDIA_TYPE");
      await parser(ctx, noop);
      const body = ctx.request.body;
      if (body === null || typeof body !== "object" || Array.isArray(body)) throw new AppError("INVALID_JSON");
    } else {
      ctx.request.body = undefined;
    }
    await next();
  };
}
