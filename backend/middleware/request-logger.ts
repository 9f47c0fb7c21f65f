// A request id and one JSON log line per request (docs/api.md › Logs and lifecycle). Never logs bodies, cookies or headers.
import crypto from "node:crypto";
import type { Next, ParameterizedContext } from "koa";
import type { Logger } from "pino";
import type { AppState } from "../http/state";

export function requestLogger(logger: Logger) {
  return async function logRequest(ctx: ParameterizedContext<AppState>, next: Next) {
    const started = process.hrtime.bigint();
    const reqId = crypto.randomUUID();
    ctx.set("X-Request-Id", reqId);
    // The client IP on every line (auth events and 429s included); X-Forwarded-For only counts with TRUST_PROXY.
    ctx.state.log = logger.child({ reqId, ip: ctx.ip });
    try {
      await next();
    } finally {
      if (logger.isLevelEnabled("info")) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100 }, "request");
      }
    }
  };
}
