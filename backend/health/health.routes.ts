// GET /api/health: 200 while the database answers, 503 otherwise (docs/api.md › Routes).
import { AppError } from "../errors";
import type { AppRouter } from "../http/state";
import type { Services } from "../services";

export function healthRoutes(router: AppRouter, s: Pick<Services, "sessionStore">): void {
  router.get("/health", async (ctx) => {
    try {
      await s.sessionStore.ping();
    } catch (err) {
      ctx.state.log.warn({ err }, "health check: database did not answer");
      throw new AppError("UNAVAILABLE", "The database is not answering");
    }
    ctx.body = { status: "ok" };
  });
}
