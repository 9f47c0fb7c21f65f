// tokenRequired(roles): cookie → verify (pinned HS256, strict claims) → load user → version/revocation →
// role → ctx.state.user. Role and existence always come from the database, never from the token.
import type { Context, Next } from "koa";
import type { SessionCookie } from "../auth/cookies";
import { AppError } from "../errors";
import { ROLES, type Role } from "../users/users.schemas";
import type { PublicUser, UsersService } from "../users/users.service";
import type { TokenClaims, Tokens } from "../auth/tokens";

/** The token from the cookie, or for non-browser clients an `Authorization: Bearer` header; never a query or body. */
export function readToken(ctx: Context, cookie: SessionCookie): string | undefined {
  const fromCookie = cookie.read(ctx);
  if (fromCookie) return fromCookie;
  const header = ctx.get("Authorization");
  return header.startsWith("Bearer ") ? header.slice(7).trim() || undefined : undefined;
}

/** Verifies a token and loads its user; throws the precise 401 otherwise. */
export function authenticate(token: string, tokens: Tokens, users: UsersService): { user: Readonly<PublicUser>; claims: TokenClaims } {
  const claims = tokens.verify(token);
  const session = users.findSession(Number(claims.sub), claims.jti);
  if (!session) throw new AppError("TOKEN_INVALID");
  if (claims.ver > session.tokenVersion) throw new AppError("TOKEN_INVALID");
  if (session.revoked || claims.ver < session.tokenVersion) throw new AppError("TOKEN_REVOKED");
  return { user: session.user, claims };
}

type AuthDeps = { tokens: Tokens; cookie: SessionCookie; users: UsersService };

/** The request's session: its token verified and its user loaded, or the precise 401 (a dead cookie is cleared). */
export function authenticateRequest(ctx: Context, deps: AuthDeps): ReturnType<typeof authenticate> {
  const token = readToken(ctx, deps.cookie);
  if (!token) throw new AppError("TOKEN_MISSING");
  try {
    return authenticate(token, deps.tokens, deps.users);
  } catch (err) {
    // A dead session cookie is cleared so the browser stops sending it.
    if (err instanceof AppError && err.status === 401) deps.cookie.clear(ctx);
    throw err;
  }
}

export function createTokenRequired(deps: AuthDeps) {
  return function tokenRequired(...roles: Role[]) {
    for (const role of roles) if (!ROLES.includes(role)) throw new Error(`tokenRequired: unknown role ${role}`);
    const forbidden = `Insufficient permissions. Required roles: ${roles.join(", ")}`;

    return async function requireToken(ctx: Context, next: Next) {
      const { user, claims } = authenticateRequest(ctx, deps);
      ctx.state.uid = user.uid;
      if (roles.length > 0 && !roles.includes(user.role)) throw new AppError("FORBIDDEN_ROLE", forbidden);
      ctx.state.user = user;
      ctx.state.session = claims;
      await next();
    };
  };
}
