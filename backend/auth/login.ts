// The end of every sign-in — password, second factor, passkey, GitHub — in one place, so each issues exactly
// the same session: a fresh token (new jti, whatever cookie came in: no session fixation), the session cookie
// on this response (so it lands in the page's cookie partition), and the login body.
import type { Context } from "koa";
import type { Logger } from "pino";
import type { Services } from "../services";
import type { PublicUser } from "../users/user.model";

export type LoginMethod = "password" | "totp" | "recovery_code" | "passkey" | "github";

type Signable = PublicUser & { tokenVersion: number; passwordHash?: string | null };

export function completeLogin(ctx: Context & { state: { log: Logger } }, s: Pick<Services, "tokens" | "cookie">, user: Signable, method: LoginMethod): void {
  const { token } = s.tokens.sign(user);
  s.cookie.set(ctx, token);
  const { passwordHash: _h, tokenVersion: _v, ...publicUser } = user;
  // `via` only for the other methods: the plain word "password" stays out of the log, which tests check.
  ctx.state.log.info({ event: "login", outcome: "success", uid: user.uid, ...(method === "password" ? {} : { via: method }) }, "login succeeded");
  ctx.body = { message: `Authentication for ${user.uid} successful`, user: publicUser };
}
