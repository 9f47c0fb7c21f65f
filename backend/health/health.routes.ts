// GET /api/health: 200 {"status":"ok","database":"ok","redis":"ok"|"off"} while every dependency answers; 503
// naming the part that does not (docs/api.md › Routes).
import { AppError } from "../errors";
import type { AppRouter } from "../http/state";
import { isRedisReady } from "../db/redis";
import type { Services } from "../services";

export function healthRoutes(router: AppRouter, s: Pick<Services, "sessionStore" | "redis">): void {
  router.get("/health", async (ctx) => {
    const [database, redis] = await Promise.all([
      Promise.resolve()
        .then(() => s.sessionStore.ping())
        .then(
          () => "ok" as const,
          (err) => {
            ctx.state.log.warn({ err }, "health check: the database did not answer");
            return "down" as const;
          },
        ),
      !s.redis
        ? ("off" as const)
        : isRedisReady(s.redis)
          ? s.redis.ping().then(() => "ok" as const, () => "down" as const)
          : ("down" as const),
    ]);
    const parts = { database, redis };
    if (database === "down" || redis === "down") {
      const failing = [database === "down" && "the database", redis === "down" && "Redis"].filter(Boolean).join(" and ");
      throw new AppError("UNAVAILABLE", `${failing[0].toUpperCase()}${failing.slice(1)} ${database === "down" && redis === "down" ? "are" : "is"} not answering`, { status: "unavailable", ...parts });
    }
    ctx.body = { status: "ok", ...parts };
  });
}
