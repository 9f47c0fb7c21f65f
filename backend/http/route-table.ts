// Dispatch for the router's fixed paths (`/api/id`, `/api/health`, …) by one Map lookup instead of testing
// every route's pattern, with each route's middleware composed once at startup rather than per request.
// Everything else (paths with parameters, another case or a trailing slash, 404 and 405) goes to the router
// itself, so what answers a request does not change, only how fast a fixed path finds its handler.
import compose from "koa-compose";
import type { Middleware } from "koa";
import type { AppRouter, AppState } from "./state";

type Handler = Middleware<AppState>;

export function routeTable(router: AppRouter): Handler {
  const byPath = new Map<string, Map<string, Handler>>();
  for (const layer of router.stack) {
    if (typeof layer.path !== "string" || layer.paramNames.length > 0) continue;
    for (const method of layer.methods) {
      // Only a path and method the router resolves to this one layer alone: a second matching layer
      // (a router.use, a duplicate route) would have to run too, so such requests stay with the router.
      const match = router.match(layer.path, method);
      if (!match.route || match.pathAndMethod.length !== 1 || match.pathAndMethod[0] !== layer) continue;
      const methods = byPath.get(layer.path) ?? byPath.set(layer.path, new Map()).get(layer.path)!;
      methods.set(method, compose(layer.stack as Handler[]));
    }
  }
  const routes = router.routes() as Handler;

  return function dispatch(ctx, next) {
    const handler = byPath.get(ctx.path)?.get(ctx.method);
    if (handler === undefined) return routes(ctx, next);
    ctx.params = {};
    return handler(ctx, next);
  };
}
