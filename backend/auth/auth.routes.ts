// Login and logout: POST/DELETE /api/authenticate (docs/api.md › Routes), flask_2025-compatible bodies.
import { AppError } from "../errors";
import { isBlank, parse } from "../http/parse";
import type { AppRouter } from "../http/state";
import type { Services } from "../services";
import { loginBody } from "./auth.schemas";
import { authenticate, authenticateRequest, readToken, type AuthenticatedSession } from "./sessions";

type AuthServices = Pick<Services, "loginIpLimit" | "accountLock" | "sessionStore" | "hasher" | "tokens" | "cookie" | "users">;

export function authRoutes(router: AppRouter, s: AuthServices): void {
  router.post("/authenticate", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (!body || Object.keys(body).length === 0) throw new AppError("BODY_MISSING");
    if (isBlank(body.uid)) throw new AppError("UID_MISSING");
    if (isBlank(body.password)) throw new AppError("PASSWORD_MISSING");
    const { uid, password } = parse(loginBody, body);
    ctx.state.uid = uid;
    const log = ctx.state.log;

    const user = await s.accountLock.check(uid, async () => {
      const found = await s.sessionStore.findForLogin(uid);
      // Unknown uids still cost one bcrypt comparison, so timing does not reveal which uids exist.
      const ok = found ? await s.hasher.compare(password, found.passwordHash) : await s.hasher.compareDummy(password);
      return ok ? found : null;
    });
    if (!user) {
      log.info({ event: "login", outcome: "failure", uid }, "login failed");
      throw new AppError("INVALID_CREDENTIALS");
    }
    // Always a fresh token (new jti), whatever cookie the request carried: no session fixation.
    const { token } = s.tokens.sign(user);
    s.cookie.set(ctx, token);
    const { passwordHash: _h, tokenVersion: _v, ...publicUser } = user;
    log.info({ event: "login", outcome: "success", uid: user.uid }, "login succeeded");
    ctx.body = { message: `Authentication for ${user.uid} successful`, user: publicUser };
  });

  router.delete("/authenticate", async (ctx) => {
    const log = ctx.state.log;
    if (ctx.query.all === "true") {
      const { user } = await authenticateRequest(ctx, s);
      ctx.state.uid = user.uid;
      await s.users.revokeAllSessions(user.id);
      log.info({ event: "logout", scope: "all", uid: user.uid }, "all sessions revoked");
    } else {
      const token = readToken(ctx, s.cookie);
      let session: AuthenticatedSession | null = null;
      try {
        session = token ? await authenticate(token, s) : null;
      } catch (err) {
        if (!(err instanceof AppError)) throw err; // database trouble is a 503, not a silent success
      }
      if (session) {
        await s.users.revokeToken(session.claims.jti, session.user.id, session.claims.exp);
        log.info({ event: "logout", scope: "session", uid: session.user.uid }, "session revoked");
      }
    }
    // Logout is idempotent: whatever state the token was in, the cookie is cleared — but only once any
    // revocation is stored, so after a 503 the browser keeps it and a retry can still end the session.
    s.cookie.clear(ctx);
    ctx.body = { message: "Token invalidated successfully" };
  });
}
