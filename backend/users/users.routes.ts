// /api/id and /api/user: signup, the user's own profile, and the admin's user management (docs/api.md › Routes).
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { fieldError, parse } from "../http/parse";
import type { AppRouter, SessionState } from "../http/state";
import type { Services } from "../services";
import { reauthenticate } from "../auth/reauth";
import { uidKeyOf, type PublicUser } from "./user.model";
import type { UserPatch } from "./users.service";
import { adminUpdateBody, deleteBody, selfUpdateBody, signupBody } from "./users.schemas";

type UserServices = Pick<Services, "config" | "users" | "tokenRequired" | "signupIpLimit" | "loginIpLimit" | "accountLock" | "cookie" | "tokens" | "now" | "recovery" | "mfa">;

const withAccess = (user: PublicUser) => ({ ...user, access: ["rw"] });

export function userRoutes(router: AppRouter, s: UserServices): void {
  const { tokenRequired } = s;

  router.get<SessionState>("/id", tokenRequired(), (ctx) => {
    ctx.body = ctx.state.user;
  });

  router.post("/user", async (ctx) => {
    if (!s.config.signupEnabled) throw new AppError("SIGNUP_DISABLED");
    await s.signupIpLimit(ctx.ip);
    const input = parse(signupBody, ctx.request.body);
    const user = await s.users.create(input);
    ctx.state.log.info({ event: "signup", uid: user.uid }, "user created");
    s.recovery.verifyLater(user, ctx.state.log); // a verification mail to the address given, after this answer
    ctx.status = 201;
    ctx.body = user;
  });

  router.get<SessionState>("/user", tokenRequired(), async (ctx) => {
    const me = ctx.state.user;
    const users = me.role === "Admin" ? await s.users.list() : [me];
    ctx.body = users.map(withAccess);
  });

  /**
   * Changes to one's own account. The password, the uid and the e-mail address say who the account is and
   * where its recovery goes, so changing them needs re-authentication (auth/reauth.ts).
   */
  async function updateOwnAccount(ctx: ParameterizedContext<SessionState>, patch: UserPatch, currentPassword: string | undefined) {
    const me = ctx.state.user;
    const log = ctx.state.log;
    const identity = [
      patch.password !== undefined && "the password",
      patch.uid !== undefined && patch.uid !== me.uid && "the GitHub ID",
      patch.email !== undefined && (patch.email ?? null) !== me.email && "the e-mail address",
    ].filter((change): change is string => change !== false);
    if (identity.length > 0) await reauthenticate(ctx, s, currentPassword, identity.join(" and "));
    const { user, tokenVersion } = await s.users.updateById(me.id, patch);
    if (user.uid !== me.uid) log.info({ event: "uid_changed", uid: user.uid, previousUid: me.uid }, "GitHub ID changed");
    if (user.email !== me.email) log.info({ event: "email_changed", uid: user.uid }, "e-mail address changed");
    // A new address is unverified (users.service): its proof goes to it, after this answer (docs/recovery.md).
    if (user.email && user.email !== me.email && !user.emailVerified) s.recovery.verifyLater(user, log);
    if (tokenVersion !== ctx.state.session.ver) {
      // Other sessions were just revoked by the version bump; this one gets a fresh token.
      s.cookie.set(ctx, s.tokens.sign({ id: user.id, tokenVersion }).token);
      log.info({ event: "revocation", scope: "all-other-sessions", uid: user.uid }, "sessions revoked");
    }
    return user;
  }

  router.put<SessionState>("/user", tokenRequired(), async (ctx) => {
    const { currentPassword, ...patch } = parse(selfUpdateBody, ctx.request.body);
    if (patch.role !== undefined && ctx.state.user.role !== "Admin") throw fieldError("role", "can only be changed by an admin");
    ctx.body = await updateOwnAccount(ctx, patch, currentPassword);
  });

  router.put<SessionState>("/user/:uid", tokenRequired("Admin"), async (ctx) => {
    const { currentPassword, resetMfa, ...patch } = parse(adminUpdateBody, ctx.request.body);
    // An admin editing their own account is held to the same rules as PUT /api/user.
    if (uidKeyOf(ctx.params.uid) === uidKeyOf(ctx.state.user.uid)) {
      if (resetMfa) throw fieldError("resetMfa", "is for other accounts: turn your own two-factor authentication off on the Security page");
      ctx.body = await updateOwnAccount(ctx, patch, currentPassword);
      return;
    }
    if (currentPassword !== undefined) throw fieldError("currentPassword", "is only for changing your own account");
    const { user, tokenVersion } = await s.users.updateByUid(ctx.params.uid, patch);
    if (patch.role !== undefined || patch.password !== undefined) {
      ctx.state.log.info({ event: "revocation", by: ctx.state.user.uid, uid: user.uid, tokenVersion }, "user sessions revoked");
    }
    if (patch.emailVerified) ctx.state.log.info({ event: "email_verified", by: ctx.state.user.uid, uid: user.uid }, "e-mail address marked verified by an admin");
    // Two-factor reset (docs/two-factor.md): factor and codes removed, every session of theirs ended.
    ctx.body = resetMfa ? (await s.mfa.resetByUid(user.uid, { by: ctx.state.user.uid, log: ctx.state.log })).user : user;
  });

  const deleteUser = async (ctx: ParameterizedContext<SessionState>, uid: string) => {
    const user = await s.users.deleteByUid(uid);
    ctx.state.log.info({ event: "revocation", reason: "deleted", by: ctx.state.user.uid, uid: user.uid }, "user deleted");
    ctx.status = 204;
  };
  router.delete<SessionState>("/user/:uid", tokenRequired("Admin"), (ctx) => deleteUser(ctx, ctx.params.uid));
  router.delete<SessionState>("/user", tokenRequired("Admin"), (ctx) => deleteUser(ctx, parse(deleteBody, ctx.request.body).uid));
}
