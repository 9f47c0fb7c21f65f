// Checking a session, in one place: read the token from the request, verify it (pinned HS256, strict
// claims), load its user as stored now, and refuse a revoked or outdated token. Role and existence always
// come from the database, never from the token (docs/api.md › Tokens).
import type { Context } from "koa";
import { AppError } from "../errors";
import type { SessionCookie } from "./cookies";
import type { MaybePromise, Session, SessionStore } from "./session-store";
import type { TokenClaims, Tokens } from "./tokens";

export interface AuthenticatedSession {
  user: Session["user"];
  claims: TokenClaims;
}

export interface SessionDeps {
  tokens: Tokens;
  cookie: SessionCookie;
  sessionStore: SessionStore;
}

/** The token from the cookie, or for non-browser clients an `Authorization: Bearer` header; never a query or body. */
export function readToken(ctx: Context, cookie: SessionCookie): string | undefined {
  const fromCookie = cookie.read(ctx);
  if (fromCookie) return fromCookie;
  const header = ctx.get("Authorization");
  return header.startsWith("Bearer ") ? header.slice(7).trim() || undefined : undefined;
}

function checkSession(session: Session | null, claims: TokenClaims): AuthenticatedSession {
  if (!session) throw new AppError("TOKEN_INVALID");
  if (claims.ver > session.tokenVersion) throw new AppError("TOKEN_INVALID");
  if (session.revoked || claims.ver < session.tokenVersion) throw new AppError("TOKEN_REVOKED");
  return { user: session.user, claims };
}

/** Verifies a token and loads its user; throws the precise 401 otherwise. */
export function authenticate(token: string, deps: Pick<SessionDeps, "tokens" | "sessionStore">): MaybePromise<AuthenticatedSession> {
  const claims = deps.tokens.verify(token);
  const found = deps.sessionStore.findSession(Number(claims.sub), claims.jti);
  return found instanceof Promise ? found.then((session) => checkSession(session, claims)) : checkSession(found, claims);
}

/** The request's session, or the precise 401; a dead session cookie is cleared so the browser stops sending it. */
export function authenticateRequest(ctx: Context, deps: SessionDeps): MaybePromise<AuthenticatedSession> {
  const token = readToken(ctx, deps.cookie);
  if (!token) throw new AppError("TOKEN_MISSING");
  const clearIfDead = (err: unknown): never => {
    if (err instanceof AppError && err.status === 401) deps.cookie.clear(ctx);
    throw err;
  };
  try {
    const result = authenticate(token, deps);
    return result instanceof Promise ? result.catch(clearIfDead) : result;
  } catch (err) {
    return clearIfDead(err);
  }
}
