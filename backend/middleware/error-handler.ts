// The outermost middleware: every failure becomes the error body of docs/api.md › Errors. 5xx bodies stay generic; the cause
// goes to the log only. Auth refusals (401/403/429) are logged as auth events.
import type { Next, ParameterizedContext } from "koa";
import type { Logger } from "pino";
import { AppError, ERROR_CODES, errorBody } from "../errors";
import type { AppState } from "../http/state";

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|READONLY|FULL|CORRUPT|NOTADB|PROTOCOL|NOLFS|AUTH)/;
// PostgreSQL SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: a statement timed out,
// the server is shutting down or starting), 55P03 (lock not available); and the socket errors of a lost server.
const POSTGRES_UNAVAILABLE = /^(08|53|57)[0-9A-Z]{3}$|^55P03$/;
const SOCKET_UNAVAILABLE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/;
const UNAVAILABLE_MESSAGE =
  /database is locked|database table is locked|unable to open database|disk I\/O error|The database connection is not open|Connection terminated|timeout exceeded when trying to connect|Query read timeout|Can't reach database server|terminating connection/i;

/** True when the error means "the database did not answer" (locked, gone, unreadable, too slow), not a bug. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 5) return false;
  const e = err as Record<string, any>;
  for (const code of [e.code, e.originalCode, e.cause?.originalCode, e.cause?.code, e.meta?.driverAdapterError?.cause?.originalCode, e.meta?.driverAdapterError?.cause?.code]) {
    if (typeof code === "string" && (SQLITE_UNAVAILABLE.test(code) || POSTGRES_UNAVAILABLE.test(code) || SOCKET_UNAVAILABLE.test(code))) return true;
  }
  if (["P1001", "P1002", "P1008", "P1017", "P2024"].includes(e.code)) return true; // can't reach, timed out, closed, pool timeout
  if (e.cause?.kind === "DatabaseNotReachable" || e.cause?.kind === "SocketTimeout" || e.cause?.kind === "ConnectionClosed") return true;
  if (e.name === "PrismaClientInitializationError") return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGE.test(e.message)) return true;
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
      // 5xx messages are generic by construction: the registry's text, or one of our own AppErrors' (written here,
      // never a library's), so nothing from a stack, a driver or a query can reach the client.
      const message = appError.status >= 500 && appError !== caught ? ERROR_CODES[appError.code].message : appError.message;
      ctx.body = errorBody(appError.status, appError.code, message, appError.data);
    }
  };
}
