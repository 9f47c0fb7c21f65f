// createApp(deps) → a Koa app that is not listening. The middleware order lives here and only here.
import Koa from "koa";
import Router from "@koa/router";
import { AppError } from "./errors";
import { createServices, type AppDeps, type Services } from "./services";
import type { AppRouter, AppState } from "./http/state";
import { jsonBody } from "./http/json-body";
import { authRoutes } from "./auth/auth.routes";
import { healthRoutes } from "./health/health.routes";
import { userRoutes } from "./users/users.routes";
import { recoveryRoutes } from "./recovery/recovery.routes";
import { mfaRoutes } from "./mfa/mfa.routes";
import { oauthRoutes } from "./oauth/oauth.routes";
import { passkeyRoutes, wellKnownRouter } from "./passkeys/passkeys.routes";
import { errorHandler } from "./middleware/error-handler";
import { securityHeaders } from "./middleware/security-headers";
import { requestLogger } from "./middleware/request-logger";
import { originPolicy } from "./middleware/origin-check";
import { routeTable } from "./http/route-table";
import { writeAtEndOfTurn } from "./http/end-of-turn";

function createRouter(services: Services): AppRouter {
  const router: AppRouter = new Router<AppState>({ prefix: "/api" });
  authRoutes(router, services);
  userRoutes(router, services);
  recoveryRoutes(router, services);
  mfaRoutes(router, services);
  oauthRoutes(router, services);
  passkeyRoutes(router, services);
  healthRoutes(router, services);
  return router;
}

/** Turns what the router left unanswered into 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED with `Allow`. */
async function notFoundOrNotAllowed(ctx: Koa.Context, next: Koa.Next) {
  await next();
  const allow = ctx.response.get("Allow");
  if ((ctx.status === 405 || ctx.status === 501) && allow) {
    throw new AppError("METHOD_NOT_ALLOWED", `Method ${ctx.method} is not allowed here; use ${allow}`, null, { Allow: allow });
  }
  // 501 without Allow: a method no route knows, on a path no route has.
  if ((ctx.status === 404 && ctx.body == null) || ctx.status === 501) throw new AppError("NOT_FOUND", `No route for ${ctx.method} ${ctx.path}`);
}

export function createApp(deps: AppDeps) {
  const services = createServices(deps);
  const { config, logger } = services;
  // Behind a proxy, only the entry it appended to X-Forwarded-For is trustworthy: everything to its left
  // comes from the client, so Koa's default (the leftmost entry) would let anyone pick their rate-limit key.
  const app = new Koa<AppState>({ proxy: config.trustProxy, maxIpsCount: 1 });

  app.use(writeAtEndOfTurn); // outermost: Koa writes the answer once this resolves
  app.use(requestLogger(logger)); // outside the error handler, so it logs the status that handler chose
  app.use(errorHandler(logger));
  app.use(securityHeaders);
  app.use(originPolicy(config.allowedOrigins)); // answers preflights before any token check
  app.use(notFoundOrNotAllowed);
  app.use(jsonBody(config.bodyLimit));
  const router = createRouter(services);
  app.use(routeTable(router)); // the router, with its fixed paths found by one lookup
  app.use(router.allowedMethods());
  // Outside /api: /.well-known/webauthn (docs/passkeys.md › Related origins); unanswered paths still end in 404.
  const wellKnown = wellKnownRouter(services);
  app.use(wellKnown.routes());
  app.use(wellKnown.allowedMethods());
  return Object.assign(app, { services });
}

export type App = ReturnType<typeof createApp>;

/** Every route as {method, path}: the Postman contract test checks the collection covers them all. */
export function listRoutes(): Array<{ method: string; path: string }> {
  // Route factories only capture their services; nothing is called while the routers are built.
  const inert = { tokenRequired: () => async () => undefined } as unknown as Services;
  const routes: Array<{ method: string; path: string }> = [];
  for (const layer of [...createRouter(inert).stack, ...wellKnownRouter(inert).stack]) {
    for (const method of layer.methods) if (method !== "HEAD") routes.push({ method, path: String(layer.path) });
  }
  return routes;
}
