// Login and logout: POST/DELETE /api/authenticate (docs/api.md › Routes), flask_2025-compatible bodies.
import { AppError } from "../errors";
import { isBlank, parse } from "../http/parse";
import type { AppRouter } from "../http/state";
import type { Services } from "../services";
import { uid as uidSchema } from "../users/users.schemas";
import { loginBody } from "./auth.schemas";
import { accountKey } from "./limits";
import { completeLogin } from "./login";
import { authenticate, authenticateRequest, readToken, type AuthenticatedSession } from "./sessions";

type AuthServices = Pick<Services, "loginIpLimit" | "accountLock" | "sessionStore" | "hasher" | "tokens" | "cookie" | "users" | "mfa">;

export function authRoutes(router: AppRouter, s: AuthServices): void {
  router.post("/authenticate", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (!body || Object.keys(body).length === 0) throw new AppError("BODY_MISSING");
    if (isBlank(body.uid)) throw new AppError("UID_MISSING");
    if (isBlank(body.password)) throw new AppError("PASSWORD_MISSING");
    const { uid, password } = parse(loginBody, body);
    // A password typed into the uid field must not reach the log: only a well-formed uid is logged.
    const loggedUid = uidSchema.safeParse(uid).success ? uid : undefined;
    ctx.state.uid = loggedUid;
    const log = ctx.state.log;

    const account = await s.sessionStore.findForLogin(uid);
    // With two-factor on, a right password alone keeps the failure count: only a completed sign-in clears it.
    const user = await s.accountLock.check(accountKey(account?.id ?? null, uid), async () => {
      // Read again inside the account's queue: a password changed while this login waited is the one checked.
      const found = await s.sessionStore.findForLogin(uid);
      // Unknown uids still cost one bcrypt comparison, so timing does not reveal which uids exist.
      const ok = found?.passwordHash ? await s.hasher.compare(password, found.passwordHash) : await s.hasher.compareDummy(password);
      return ok ? found : null;
    }, { clears: (found) => !found.mfaEnabled });
    if (!user) {
      log.info({ event: "login", outcome: "failure", uid: loggedUid }, "login failed");
      throw new AppError("INVALID_CREDENTIALS");
    }
    // Awaited (one more hash, once per account after a BCRYPT_ROUNDS change) so shutdown never cuts it off.
    await s.users.rehashIfNeeded(user.id, user.passwordHash as string, password).then(
      (rehashed) => rehashed && log.info({ event: "password_rehashed", uid: user.uid }, "password hash moved to the configured cost"),
      (err) => log.warn({ err, uid: user.uid }, "could not rehash the password at the configured cost"),
    );
    if (user.mfaEnabled) await s.mfa.requireSecondFactor(ctx, user); // 401 MFA_REQUIRED + challenge cookie (docs/two-factor.md)
    completeLogin(ctx, s, user, "password");
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
