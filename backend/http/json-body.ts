// JSON-only request bodies (docs/api.md › CORS and CSRF): a cross-site HTML form cannot send application/json without a
// CORS preflight, so refusing every other type closes the "simple request" CSRF door.
import bodyParser from "koa-bodyparser";
import type { Context, Next } from "koa";
import { AppError } from "../errors";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function hasBody(ctx: Context): boolean {
  const length = ctx.get("Content-Length");
  return ctx.get("Transfer-Encoding") !== "" || (length !== "" && length !== "0");
}

/** Errors of the body parser (raw-body, co-body, zlib) carry a status or a type; map them to our codes. */
function fromParserError(err: Record<string, any>): AppError {
  if (err.type === "entity.too.large" || err.status === 413) return new AppError("PAYLOAD_TOO_LARGE");
  if (err.type === "encoding.unsupported" || err.type === "charset.unsupported" || err.status === 415) {
    return new AppError("UNSUPPORTED_MEDIA_TYPE", "Unsupported body encoding or charset: send UTF-8 JSON (gzip, deflate or br allowed)");
  }
  // Syntax errors, `__proto__` keys, corrupt gzip, bodies shorter than Content-Length: all unreadable JSON.
  return new AppError("INVALID_JSON", "The request body is not valid JSON");
}

export function jsonBody(limit: string) {
  const parser = bodyParser({ enableTypes: ["json"], jsonLimit: limit, strict: true });
  const noop = async () => undefined;
  async function parseInto(ctx: Context): Promise<void> {
    if (ctx.is("application/json") === false) throw new AppError("UNSUPPORTED_MEDIA_TYPE");
    try {
      await parser(ctx, noop);
    } catch (err) {
      throw fromParserError(err as Record<string, any>);
    }
    const body = ctx.request.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new AppError("INVALID_JSON");
  }
  return function parseJsonBody(ctx: Context, next: Next) {
    if (BODY_METHODS.has(ctx.method) && hasBody(ctx)) return parseInto(ctx).then(() => next());
    ctx.request.body = undefined;
    return next();
  };
}
