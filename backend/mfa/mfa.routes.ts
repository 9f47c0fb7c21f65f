// Two-factor routes (docs/two-factor.md › Routes): enrolment, recovery codes and turning it off on the security
// page, and the login's second step, POST /api/authenticate/mfa, which ends in the same session as any login.
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { parse } from "../http/parse";
import type { AppRouter, AppState, SessionState } from "../http/state";
import type { Services } from "../services";
import { accountKey } from "../auth/limits";
import { completeLogin } from "../auth/login";
import { reauthenticate } from "../auth/reauth";
import { CHALLENGE_MAX_ATTEMPTS, mfaCodeRefused } from "./mfa.service";
import { asSecondFactor, confirmBody, disableBody, recoveryCodesBody, secondStepBody, setupBody } from "./mfa.schemas";

type MfaServices = Pick<Services, "mfa" | "users" | "tokenRequired" | "loginIpLimit" | "accountLock" | "cookie" | "tokens" | "now">;

const WHAT = "two-factor authentication";

export function mfaRoutes(router: AppRouter, s: MfaServices): void {
  const { tokenRequired } = s;

  /** Turning two-factor on or off changes how the account signs in: every other session ends, this one goes on. */
  async function renewSession(ctx: ParameterizedContext<SessionState>) {
    const me = ctx.state.user;
    const tokenVersion = await s.users.revokeAllSessions(me.id);
    s.cookie.set(ctx, s.tokens.sign({ id: me.id, tokenVersion }).token);
    ctx.state.log.info({ event: "revocation", scope: "all-other-sessions", uid: me.uid }, "sessions revoked");
  }

  router.get<SessionState>("/mfa", tokenRequired(), async (ctx) => {
    ctx.body = await s.mfa.status(ctx.state.user.id);
  });

  router.post<SessionState>("/mfa/totp/setup", tokenRequired(), async (ctx) => {
    const { currentPassword } = parse(setupBody, ctx.request.body);
    const me = ctx.state.user;
    if (!s.mfa.available) throw new AppError("MFA_UNAVAILABLE", "Two-factor authentication is not available: this server has no DATA_ENCRYPTION_KEY");
    if (me.mfaEnabled) throw new AppError("MFA_ALREADY_ENABLED");
    await reauthenticate(ctx, s, currentPassword, WHAT);
    ctx.body = await s.mfa.beginEnrolment(me);
    ctx.state.log.info({ event: "mfa_setup_started", uid: me.uid }, "two-factor setup started");
  });

  router.post<SessionState>("/mfa/totp/confirm", tokenRequired(), async (ctx) => {
    const { code } = parse(confirmBody, ctx.request.body);
    const me = ctx.state.user;
    await s.loginIpLimit(ctx.ip); // code guesses are limited per network like logins
    const recoveryCodes = await s.mfa.confirmEnrolment(me.id, code);
    if (!recoveryCodes) {
      ctx.state.log.info({ event: "mfa_failed", uid: me.uid, during: "setup" }, "wrong code while confirming two-factor setup");
      throw mfaCodeRefused("That code is not right: enter the 6-digit code your authenticator app shows now for this account");
    }
    await renewSession(ctx);
    ctx.state.log.info({ event: "mfa_enabled", uid: me.uid }, "two-factor authentication turned on");
    ctx.body = { recoveryCodes };
  });

  router.delete<SessionState>("/mfa/totp", tokenRequired(), async (ctx) => {
    const { currentPassword, code } = parse(disableBody, ctx.request.body);
    const me = ctx.state.user;
    const key = accountKey(me.id, me.uid);
    const factor = asSecondFactor(code);
    await s.loginIpLimit(ctx.ip);
    if (me.mfaEnabled) {
      // The code first, counted toward the lock: with it right, a right password may clear the count; without
      // it, password + wrong codes, repeated, would guess forever. Checked, not spent, until the password passes.
      if (!(await s.accountLock.check(key, () => s.mfa.peekSecondFactor(me.id, factor)))) {
        ctx.state.log.info({ event: "mfa_failed", uid: me.uid, during: "disable" }, "wrong code while turning two-factor off");
        throw mfaCodeRefused();
      }
    }
    await reauthenticate(ctx, s, currentPassword, WHAT);
    if (me.mfaEnabled && (await s.mfa.verifySecondFactor(me.id, factor)) === null) throw mfaCodeRefused(); // spent meanwhile
    // Also without a factor: a pending setup is dropped, and the answer is the same (idempotent).
    if (await s.mfa.removeFactor(me.id)) {
      await renewSession(ctx);
      ctx.state.log.info({ event: "mfa_disabled", uid: me.uid }, "two-factor authentication turned off");
    }
    ctx.status = 204;
  });

  router.post<SessionState>("/mfa/recovery-codes", tokenRequired(), async (ctx) => {
    const { code } = parse(recoveryCodesBody, ctx.request.body);
    const me = ctx.state.user;
    await s.loginIpLimit(ctx.ip);
    if (!me.mfaEnabled) throw mfaCodeRefused("Two-factor authentication is off, so there are no recovery codes to replace");
    const method = await s.accountLock.check(accountKey(me.id, me.uid), () => s.mfa.verifySecondFactor(me.id, asSecondFactor(code)));
    if (!method) {
      ctx.state.log.info({ event: "mfa_failed", uid: me.uid, during: "recovery_codes" }, "wrong code while replacing recovery codes");
      throw mfaCodeRefused();
    }
    if (method === "recovery_code") ctx.state.log.info({ event: "recovery_code_used", uid: me.uid, during: "recovery_codes" }, "recovery code used");
    ctx.body = { recoveryCodes: await s.mfa.regenerateRecoveryCodes(me.id) };
    ctx.state.log.info({ event: "recovery_codes_replaced", uid: me.uid }, "new recovery codes made; the old ones stopped working");
  });

  const challengeGone = (ctx: ParameterizedContext<AppState>) => {
    s.mfa.challengeCookie.clear(ctx);
    return new AppError("MFA_CHALLENGE_INVALID");
  };

  router.post("/authenticate/mfa", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    const input = parse(secondStepBody, ctx.request.body);
    const challenge = await s.mfa.openChallenge(ctx);
    const { user } = challenge;
    ctx.state.uid = user.uid;
    const log = ctx.state.log;
    // Wrong codes count toward the account's lock like wrong passwords; a right one completes the sign-in and
    // so clears the count (the password alone did not: auth.routes.ts).
    const method = await s.accountLock.check(accountKey(user.id, user.uid), async () => {
      // Checks of one account run one at a time (across replicas too): a request that waited behind the one that
      // spent this challenge stops here, before it uses up a recovery code for nothing.
      if (!(await s.mfa.challengeIsLive(challenge.token))) throw challengeGone(ctx);
      return s.mfa.verifySecondFactor(user.id, input);
    });
    if (!method) {
      log.info({ event: "mfa_failed", uid: user.uid, during: "login" }, "wrong second-factor code");
      if ((await s.mfa.countWrongCode(challenge.token)) === "exhausted") {
        s.mfa.challengeCookie.clear(ctx);
        throw new AppError("MFA_CHALLENGE_INVALID", "Too many wrong codes: start again with your password", { reason: "too_many_codes" });
      }
      throw new AppError("MFA_CODE_INVALID", undefined, { attemptsLeft: Math.max(1, CHALLENGE_MAX_ATTEMPTS - challenge.attempts - 1) });
    }
    // Single use: of two right answers sent at once (a code and a recovery code), one signs in.
    if (!(await s.mfa.spendChallenge(challenge.token))) throw challengeGone(ctx);
    s.mfa.challengeCookie.clear(ctx);
    if (method === "recovery_code") log.info({ event: "recovery_code_used", uid: user.uid, during: "login" }, "recovery code used");
    completeLogin(ctx, s, user, method);
  });
}
