// What middleware leaves on ctx.state for the handlers after it, typed once so handlers need no casts.
import type Router from "@koa/router";
import type { Logger } from "pino";
import type { TokenClaims } from "../auth/tokens";
import type { PublicUser } from "../users/user.model";

/** Every request: the request logger's child logger, and the uid auth events are logged with. */
export interface AppState {
  log: Logger;
  uid?: string;
}

/** After tokenRequired: the session's user, as stored now, and the verified token's claims. */
export interface SessionState extends AppState {
  user: Readonly<PublicUser>;
  session: TokenClaims;
}

export type AppRouter = Router<AppState>;
