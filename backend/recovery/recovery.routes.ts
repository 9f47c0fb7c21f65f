// Account recovery and e-mail verification (docs/recovery.md › Routes): `forgot` and `reset`, asking for and
// using a verification link, and the admin's "send a reset link".
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { fieldError, parse } from "../http/parse";
import type { AppRouter, AppState, SessionState } from "../http/state";
import type { Services } from "../services";
import { accountKey } from "../auth/limits";
import { emptyBody, forgotBody, resetBody, verifyBody } from "./recovery.schemas";
import type { SentTo } from "./recovery.service";

/** The answer to every `forgot`, whether or not an account matched. */
export const FORGOT_MESSAGE = "If an account matches, we have sent it a reset link";
/** A reset link allows this many wrong second-factor codes; the last one spends it. */
export const RESET_MAX_CODE_ATTEMPTS = 5;
const MFA_METHODS = ["totp", "recovery_code"];

type RecoveryServices = Pick<Services, "recovery" | "oneTimeTokens" | "users" | "hasher" | "accountLock" | "loginIpLimit" | "tokenRequired" | "cookie" | "mfa">;

const invalidResetLink = () => new AppError("RESET_TOKEN_INVALID");

/**
 * With two-factor on, a reset also needs a code: the link alone (from a stolen mailbox, say) must not be
 * enough. Wrong codes count toward the account's lock like wrong login codes, and each one counts against the
 * link: the fifth spends it.
 */
async function checkSecondFactor(ctx: ParameterizedContext<AppState>, s: RecoveryServices, account: { id: number; uid: string }, token: string, code: string | undefined) {
  const typed = code?.replace(/\s+/g, "") ?? "";
  if (typed === "") throw new AppError("MFA_REQUIRED", "Enter the code from your authenticator app, or a recovery code", { methods: MFA_METHODS });
  const input = /^\d{6}$/.test(typed) ? { code: typed } : { recoveryCode: code as string };
  // The TOTP step is claimed, or the recovery code spent, here: after the password rule, before the link is.
  const method = await s.accountLock.check(accountKey(account.id, account.uid), () => s.mfa.verifySecondFactor(account.id, input));
  if (method !== null) {
    if (method === "recovery_code") ctx.state.log.info({ event: "recovery_code_used", uid: account.uid, during: "password_reset" }, "recovery code used");
    return;
  }
  ctx.state.log.info({ event: "mfa_failed", uid: account.uid, during: "password_reset" }, "wrong second-factor code during a password reset");
  if ((await s.oneTimeTokens.countFailure(token, "password_reset", RESET_MAX_CODE_ATTEMPTS)) === "exhausted") {
    throw new AppError("RESET_TOKEN_INVALID", "Too many wrong codes: this reset link no longer works; ask for a new one", { reason: "too_many_codes" });
  }
  throw new AppError("MFA_REQUIRED", "That code is not right; enter the current code from your authenticator app, or a recovery code", { methods: MFA_METHODS });
}

export function recoveryRoutes(router: AppRouter, s: RecoveryServices): void {
  const { tokenRequired } = s;

  router.post("/password/forgot", async (ctx) => {
    await s.recovery.mailIpLimit(ctx.ip);
    s.recovery.requireMail();
    const by = parse(forgotBody, ctx.request.body);
    // Not awaited: looking the account up and sending its mail happen after this answer, which is therefore
    // the same, in body and in timing, whether or not an account matched.
    s.recovery.requestResetLater(by, ctx.state.log);
    ctx.status = 202;
    ctx.body = { message: FORGOT_MESSAGE };
  });

  router.post("/password/reset", async (ctx) => {
    await s.loginIpLimit(ctx.ip);
    const { token, password, code } = parse(resetBody, ctx.request.body);
    const link = await s.oneTimeTokens.peek<SentTo>(token, "password_reset");
    const account = link?.userId != null ? await s.recovery.accountForReset(link.userId) : null;
    // A link is for the address it went to: once the account's address changed, it is void.
    if (!link || !account || account.emailKey === null || account.emailKey !== link.data?.email?.toLowerCase()) throw invalidResetLink();
    ctx.state.uid = account.uid;
    // The password rule first: a weak password is an answer to fix, not a reason to spend the link.
    const problem = await s.hasher.checkStrength(password, [account.uid]);
    if (problem) throw fieldError("password", problem);
    if (account.mfaEnabled) await checkSecondFactor(ctx, s, account, token, code);
    // The one atomic step: of several parallel resets with this link, exactly one gets past it.
    if (!(await s.oneTimeTokens.consume(token, "password_reset"))) throw invalidResetLink();
    await s.users.updateById(account.id, { password });
    // Whoever held a session (perhaps the reason for the reset) is out; so are the other reset links.
    await s.users.revokeAllSessions(account.id);
    await s.oneTimeTokens.revokeFor(account.id, ["password_reset"]);
    await s.accountLock.clear(accountKey(account.id, account.uid));
    // The link reached its address and its owner acted on it: that proves the address.
    const verified = await s.recovery.markVerified(account.id, link.data.email);
    ctx.state.log.info({ event: "password_reset_completed", uid: account.uid, emailVerified: verified }, "password reset");
    s.cookie.clear(ctx);
    ctx.body = { message: "Password changed; please log in" };
  });

  router.post<SessionState>("/email/verification", tokenRequired(), async (ctx) => {
    await s.recovery.mailIpLimit(ctx.ip);
    s.recovery.requireMail();
    parse(emptyBody, ctx.request.body);
    const me = ctx.state.user;
    if (!me.email) throw new AppError("EMAIL_MISSING");
    if (me.emailVerified) throw new AppError("EMAIL_ALREADY_VERIFIED");
    // Over the account's mail limits nothing is sent, and the answer is the same.
    await s.recovery.mailVerification(me, ctx.state.log);
    ctx.status = 202;
    ctx.body = { message: "Verification mail sent" };
  });

  router.post("/email/verify", async (ctx) => {
    const { token } = parse(verifyBody, ctx.request.body);
    const user = await s.recovery.verifyEmail(token);
    ctx.state.uid = user.uid;
    ctx.state.log.info({ event: "email_verified", uid: user.uid }, "e-mail address verified");
    ctx.body = user;
  });

  router.post<SessionState>("/user/:uid/password-reset", tokenRequired("Admin"), async (ctx) => {
    s.recovery.requireMail();
    parse(emptyBody, ctx.request.body);
    const user = await s.users.getByUid(ctx.params.uid);
    if (!user.email) throw new AppError("EMAIL_MISSING", `${user.uid} has no e-mail address to send a reset link to`);
    const { queued } = await s.recovery.mailReset(user, ctx.state.log, ctx.state.user.uid);
    ctx.status = 202;
    ctx.body = queued
      ? { message: `A password reset link is on its way to the e-mail address of ${user.uid}`, sent: true }
      : { message: `No mail sent: ${user.uid} was sent the most mails allowed for now (one a minute, MAIL_PER_ACCOUNT_PER_HOUR an hour); try again later`, sent: false };
  });
}
