// tokenRequired(roles): the session check of auth/sessions.ts, then the role check, then the route.
import type { Next, ParameterizedContext } from "koa";
import { AppError } from "../errors";
import { authenticateRequest, type AuthenticatedSession, type SessionDeps } from "../auth/sessions";
import type { AppState, SessionState } from "../http/state";
import { ROLES, type Role } from "../users/user.model";

export type TokenRequired = ReturnType<typeof createTokenRequired>;

export function createTokenRequired(deps: SessionDeps) {
  return function tokenRequired(...roles: Role[]) {
    // Checked when routes are built, so a typo fails at startup rather than on a request.
    for (const role of roles) if (!ROLES.includes(role)) throw new Error(`tokenRequired: unknown role ${role}`);
    const forbidden = `Insufficient permissions. Required roles: ${roles.join(", ")}`;

    /** The session's user on ctx.state, if its role may pass; then the route. */
    function admit(ctx: ParameterizedContext<AppState>, { user, claims }: AuthenticatedSession, next: Next) {
      ctx.state.uid = user.uid;
      if (roles.length > 0 && !roles.includes(user.role)) throw new AppError("FORBIDDEN_ROLE", forbidden);
      const state = ctx.state as SessionState;
      state.user = user;
      state.session = claims;
      return next();
    }

    // Not async: on SQLite the check usually completes at once, and the route then runs without a wait.
    return function requireToken(ctx: ParameterizedContext<AppState>, next: Next) {
      const found = authenticateRequest(ctx, deps);
      return found instanceof Promise ? found.then((session) => admit(ctx, session, next)) : admit(ctx, found, next);
    };
  };
}
