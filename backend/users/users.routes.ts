// /api/id and /api/user: signup, the user's own profile, and the admin's user management (SPEC §5.2).
import type Router from "@koa/router";
import type { Context } from "koa";
import type { Logger } from "pino";
import { AppError } from "../errors";
import type { Services } from "../app";
import { adminUpdateBody, deleteBody, parse, selfUpdateBody, signupBody } from "./users.schemas";
import type { PublicUser } from "./users.service";

const withAccess = (user: PublicUser) => ({ ...user, access: ["rw"] });

export function userRoutes(router: Router, s: Services): void {
  const { tokenRequired } = s;

  router.get("/id", tokenRequired(), (ctx: Context) => {
    ctx.body = ctx.state.user;
  });

  router.post("/user", async (ctx: Context) => {
    if (!s.config.signupEnabled) throw new AppError("SIGNUP_DISABLED");
    await s.signupIpLimit(ctx.ip);
    const input = parse(signupBody, ctx.request.body);
    const user = await s.users.create(input);
    (ctx.state.log as Logger).info({ event: "signup", uid: user.uid }, "user created");
    ctx.status = 201;
    ctx.body = user;
  });

  router.get("/user", tokenRequired(), async (ctx: Context) => {
    const me = ctx.state.user as PublicUser;
    const users = me.role === "Admin" ? await s.users.list() : [me];
    ctx.body = users.map(withAccess);
  });

  router.put("/user", tokenRequired(), async (ctx: Context) => {
    const me = ctx.state.user as PublicUser;
    const { currentPassword, ...patch } = parse(selfUpdateBody, ctx.request.body);
    if (patch.role !== undefined && me.role !== "Admin") {
      throw new AppError("VALIDATION_FAILED", "Some fields are invalid: role can only be changed by an admin", [{ field: "role", message: "can only be changed by an admin" }]);
    }
    if (patch.password !== undefined) {
      // The current password is checked like a login (same lock), so a stolen cookie cannot brute-force it.
      const verified = await s.accountLock.check(me.uid, async () => ((await s.users.verifyPassword(me.id, currentPassword as string)) ? true : null));
      if (!verified) {
        throw new AppError("VALIDATION_FAILED", "Some fields are invalid: currentPassword is incorrect", [{ field: "currentPassword", message: "is incorrect" }]);
      }
    }
    const { user, tokenVersion } = await s.users.updateById(me.id, patch);
    if (tokenVersion !== (ctx.state.session.ver as number)) {
      // Other sessions were just revoked by the version bump; this one gets a fresh token.
      s.cookie.set(ctx, s.tokens.sign({ id: user.id, tokenVersion }).token);
      (ctx.state.log as Logger).info({ event: "revocation", scope: "all-other-sessions", uid: user.uid }, "sessions revoked");
    }
    ctx.body = user;
  });

  router.put("/user/:uid", tokenRequired("Admin"), async (ctx: Context) => {
    const patch = parse(adminUpdateBody, ctx.request.body);
    const { user, tokenVersion } = await s.users.updateByUid(ctx.params.uid, patch);
    if (patch.role !== undefined || patch.password !== undefined) {
      (ctx.state.log as Logger).info({ event: "revocation", by: (ctx.state.user as PublicUser).uid, uid: user.uid, tokenVersion }, "user sessions revoked");
    }
    ctx.body = user;
  });

  const deleteUser = async (ctx: Context, uid: string) => {
    const user = await s.users.deleteByUid(uid);
    (ctx.state.log as Logger).info({ event: "revocation", reason: "deleted", by: (ctx.state.user as PublicUser).uid, uid: user.uid }, "user deleted");
    ctx.status = 204;
  };
  router.delete("/user/:uid", tokenRequired("Admin"), (ctx: Context) => deleteUser(ctx, ctx.params.uid));
  router.delete("/user", tokenRequired("Admin"), (ctx: Context) => deleteUser(ctx, parse(deleteBody, ctx.request.body).uid));

  router.get("/health", (ctx: Context) => {
    try {
      s.users.ping();
    } catch (err) {
      (ctx.state.log as Logger).warn({ err }, "health check: database did not answer");
      throw new AppError("UNAVAILABLE", "The database is not answering");
    }
    ctx.body = { status: "ok" };
  });

}
