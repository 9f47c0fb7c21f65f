// /api/id and /api/user: signup, the user's own profile, and the admin's user management (docs/api.md › Routes).
import type { ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { fieldError, parse } from "../http/parse";
import type { AppRouter, SessionState } from "../http/state";
import type { Services } from "../services";
import type { PublicUser } from "./user.model";
import { adminUpdateBody, deleteBody, selfUpdateBody, signupBody } from "./users.schemas";

type UserServices = Pick<Services, "config" | "users" | "tokenRequired" | "signupIpLimit" | "accountLock" | "cookie" | "tokens">;

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
    ctx.status = 201;
    ctx.body = user;
  });

  router.get<SessionState>("/user", tokenRequired(), async (ctx) => {
    const me = ctx.state.user;
    const users = me.role === "Admin" ? await s.users.list() : [me];
    ctx.body = users.map(withAccess);
  });

  router.put<SessionState>("/user", tokenRequired(), async (ctx) => {
    const me = ctx.state.user;
    const { currentPassword, ...patch } = parse(selfUpdateBody, ctx.request.body);
    if (patch.role !== undefined && me.role !== "Admin") throw fieldError("role", "can only be changed by an admin");
    if (patch.password !== undefined) {
      // The current password is checked like a login (same lock), so a stolen cookie cannot brute-force it.
      const verified = await s.accountLock.check(me.uid, async () => ((await s.users.verifyPassword(me.id, currentPassword as string)) ? true : null));
      if (!verified) throw fieldError("currentPassword", "is incorrect");
    }
    const { user, tokenVersion } = await s.users.updateById(me.id, patch);
    if (tokenVersion !== ctx.state.session.ver) {
      // Other sessions were just revoked by the version bump; this one gets a fresh token.
      s.cookie.set(ctx, s.tokens.sign({ id: user.id, tokenVersion }).token);
      ctx.state.log.info({ event: "revocation", scope: "all-other-sessions", uid: user.uid }, "sessions revoked");
    }
    ctx.body = user;
  });

  router.put<SessionState>("/user/:uid", tokenRequired("Admin"), async (ctx) => {
    const patch = parse(adminUpdateBody, ctx.request.body);
    const { user, tokenVersion } = await s.users.updateByUid(ctx.params.uid, patch);
    if (patch.role !== undefined || patch.password !== undefined) {
      ctx.state.log.info({ event: "revocation", by: ctx.state.user.uid, uid: user.uid, tokenVersion }, "user sessions revoked");
    }
    ctx.body = user;
  });

  const deleteUser = async (ctx: ParameterizedContext<SessionState>, uid: string) => {
    const user = await s.users.deleteByUid(uid);
    ctx.state.log.info({ event: "revocation", reason: "deleted", by: ctx.state.user.uid, uid: user.uid }, "user deleted");
    ctx.status = 204;
  };
  router.delete<SessionState>("/user/:uid", tokenRequired("Admin"), (ctx) => deleteUser(ctx, ctx.params.uid));
  router.delete<SessionState>("/user", tokenRequired("Admin"), (ctx) => deleteUser(ctx, parse(deleteBody, ctx.request.body).uid));
}
