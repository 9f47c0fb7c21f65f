// A request id and one JSON log line per request (docs/api.md › Logs and lifecycle). Never logs bodies, cookies or headers.
import crypto from "node:crypto";
import type { Next, ParameterizedContext } from "koa";
import type { Logger } from "pino";
import type { AppState } from "../http/state";

/**
 * ctx.state of every request. Its child logger is made on first use: building one per request cost more than
 * the rest of an authenticated read when nothing is logged (LOG_LEVEL=warn and above, no auth event).
 */
class RequestState implements AppState {
  uid?: string;
  #log: Logger | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly ctx: ParameterizedContext<AppState>,
    readonly reqId: string,
  ) {}

  /** The client IP on every line (auth events and 429s included); X-Forwarded-For only counts with TRUST_PROXY. */
  get log(): Logger {
    return (this.#log ??= this.logger.child({ reqId: this.reqId, ip: this.ctx.ip }));
  }
}

export function requestLogger(logger: Logger) {
  return async function logRequest(ctx: ParameterizedContext<AppState>, next: Next) {
    const started = process.hrtime.bigint();
    const reqId = crypto.randomUUID();
    ctx.set("X-Request-Id", reqId);
    const state = new RequestState(logger, ctx, reqId);
    ctx.state = state;
    try {
      await next();
    } finally {
      if (logger.isLevelEnabled("info")) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100 }, "request");
      }
    }
  };
}
