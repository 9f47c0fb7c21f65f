// The outermost middleware: every failure becomes the error body of docs/api.md › Errors. 5xx bodies stay generic; the cause
// goes to the log only. Auth refusals (401/403/429) are logged as auth events.
import type { Next, ParameterizedContext } from "koa";
import type { Logger } from "pino";
import { AppError, ERROR_CODES, errorBody } from "../errors";
import type { AppState } from "../http/state";

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|READONLY|FULL|CORRUPT|NOTADB|PROTOCOL|NOLFS|AUTH)/;

/** True when the error means "the database did not answer" (locked, gone, unreadable), not a bug. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 5) return false;
  const e = err as Record<string, any>;
  for (const code of [e.code, e.originalCode, e.cause?.originalCode, e.meta?.driverAdapterError?.cause?.originalCode]) {
    if (typeof code === "string" && SQLITE_UNAVAILABLE.test(code)) return true;
  }
  if (["P1001", "P1008", "P2024"].includes(e.code)) return true; // can't reach, timed out, pool timeout
  if (e.name === "PrismaClientInitializationError") return true;
  if (typeof e.message === "string" && /database is locked|database table is locked|unable to open database|disk I\/O error|The database connection is not open/i.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1) || isDatabaseUnavailable(e.meta?.driverAdapterError, depth + 1);
}

export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: ParameterizedContext<Partial<AppState>>, next: Next) {
    try {
      await next();
    } catch (caught) {
      const err = caught as Record<string, any>;
      let appError: AppError;
      if (caught instanceof AppError) appError = caught;
      else if (isDatabaseUnavailable(caught)) appError = new AppError("UNAVAILABLE");
      else appError = new AppError("INTERNAL");

      const log = ctx.state.log ?? logger;
      if (appError.status >= 500) {
        log.error({ err: caught, code: appError.code, method: ctx.method, path: ctx.path }, "request failed");
      } else if ([401, 403, 429].includes(appError.status)) {
        log.info({ event: "auth", outcome: "refused", code: appError.code, status: appError.status, uid: ctx.state.uid, path: ctx.path, method: ctx.method }, "auth refused");
      }

      ctx.status = appError.status;
      for (const [name, value] of Object.entries({ ...(err.headers ?? {}), ...appError.headers })) ctx.set(name, String(value));
      // 5xx messages are generic by construction: only the registry's text is ever sent.
      const message = appError.status >= 500 ? ERROR_CODES[appError.code].message : appError.message;
      ctx.body = errorBody(appError.status, appError.code, message, appError.data);
    }
  };
}
