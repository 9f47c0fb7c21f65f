// Re-authentication before a change that says who an account is or how it signs in (uid, e-mail, password,
// two-factor, passkeys, GitHub link): a stolen session alone must not be enough to take the account over.
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { fieldError } from "../http/parse";
import type { SessionState } from "../http/state";
import type { Services } from "../services";
import { accountKey } from "./limits";

/** How recent a sign-in stands in for the password of an account that has none (made by GitHub). */
export const RECENT_SIGN_IN_SECONDS = 600;

type ReauthServices = Pick<Services, "users" | "loginIpLimit" | "accountLock" | "now">;

/**
 * The current password, checked like a login: the same per-IP limit and the same lock (keyed by the immutable
 * user id, so renaming the account cannot reset it); a wrong one is 400 VALIDATION_FAILED on `currentPassword`
 * and an auth event. An account without a password re-authenticates with a sign-in less than 10 minutes old,
 * else 401 REAUTH_REQUIRED. `what` names the change ("the password") in the message.
 */
export async function reauthenticate(ctx: ParameterizedContext<SessionState>, s: ReauthServices, currentPassword: string | undefined, what: string): Promise<void> {
  const me = ctx.state.user;
  if (!(await s.users.hasPassword(me.id))) {
    if (Math.floor(s.now() / 1000) - ctx.state.session.iat <= RECENT_SIGN_IN_SECONDS) return;
    throw new AppError("REAUTH_REQUIRED", `Please sign in again (less than ${RECENT_SIGN_IN_SECONDS / 60} minutes ago) to change ${what}`);
  }
  if (currentPassword === undefined) throw fieldError("currentPassword", `is required to change ${what}`);
  await s.loginIpLimit(ctx.ip);
  // With two-factor on, a right password is half a sign-in: it must not wipe failures of the second factor.
  const verified = await s.accountLock.check(accountKey(me.id, me.uid), async () => ((await s.users.verifyPassword(me.id, currentPassword)) ? true : null), {
    clears: () => !me.mfaEnabled,
  });
  if (!verified) {
    ctx.state.log.info({ event: "reauth", outcome: "failure", uid: me.uid }, "current password check failed");
    throw fieldError("currentPassword", "is incorrect");
  }
}
