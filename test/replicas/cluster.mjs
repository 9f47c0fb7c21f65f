// Several replicas of the built API on one throwaway PostgreSQL + Redis (test/lib/throwaway.cjs), as owned
// resources (test/lib/suite.mjs): everything stops and is removed when the owner ends. Plus a small HTTP client
// that keeps each "browser's" cookie, and a round-robin proxy that does what a load balancer does.
import crypto from "node:crypto";
import { createRequire } from "node:module";
import http from "node:http";
import { apiEnv, freePort, spawnApi, stopApi, waitForHealth } from "../lib/api-process.mjs";
import { own } from "../lib/suite.mjs";

const { startPostgres, startRedis } = createRequire(import.meta.url)("../lib/throwaway.cjs");

export const COOKIE = "__Host-jwt_token";
export const MAX_FAILURES = 5;
export const DEPENDENCY_TIMEOUT_MS = 1000;
export const ORIGIN = "http://localhost:4100";
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PostgreSQL (with a password, as in production) + Redis + `replicas` API processes sharing one JWT secret.
 * `env` is added to every replica's environment.
 */
export async function startCluster(owner, { replicas = 3, env = {} } = {}) {
  const pg = await startPostgres({ password: `pg-${crypto.randomBytes(6).toString("hex")}` });
  own(owner, () => pg.destroy());
  const redis = await startRedis({ password: `redis-${crypto.randomBytes(6).toString("hex")}` });
  own(owner, () => redis.destroy());
  const cluster = {
    pg,
    redis,
    databaseUrl: pg.urlFor("postgres"),
    redisUrl: redis.url,
    secret: crypto.randomBytes(48).toString("base64url"),
    dataKey: crypto.randomBytes(32).toString("base64"),
    env,
    apis: [],
  };
  cluster.start = (extra = {}) => startReplica(owner, cluster, extra);
  // Started one after the other: the first applies the migrations, the others find nothing to do.
  for (let i = 0; i < replicas; i++) cluster.apis.push(await cluster.start());
  return cluster;
}

/** One more replica of `cluster` on a free port; `extra` is added to its environment. */
export async function startReplica(owner, cluster, extra = {}) {
  const port = await freePort();
  const env = apiEnv({
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: cluster.databaseUrl,
    REDIS_URL: cluster.redisUrl,
    JWT_SECRET: cluster.secret,
    DATA_ENCRYPTION_KEY: cluster.dataKey,
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "warn",
    LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    LOGIN_LOCK_SECONDS: "60",
    DEPENDENCY_TIMEOUT_MS: String(DEPENDENCY_TIMEOUT_MS),
    SHUTDOWN_TIMEOUT_SECONDS: "10",
    ALLOWED_ORIGINS: ORIGIN,
    ...cluster.env,
    ...extra,
  });
  const server = spawnApi(env);
  const api = { url: `http://127.0.0.1:${port}`, port, server, env, stop: (timeoutMs = 15_000) => stopApi(server, timeoutMs) };
  own(owner, () => api.stop(0));
  await waitForHealth(api.url, server, { timeoutMs: 60_000 });
  return api;
}

/**
 * One request; never throws. Resolves { status, json, headers, ms } or { error, ms }. `cookie` is sent as
 * the session cookie; a `timeoutMs` bounds the whole exchange.
 */
export async function call(base, path, { method = "GET", body, cookie, ip, headers = {}, timeoutMs = 10_000 } = {}) {
  const started = performance.now();
  const sent = { ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (cookie) sent.Cookie = `${COOKIE}=${cookie}`;
  if (ip) sent["X-Forwarded-For"] = ip;
  try {
    const res = await fetch(`${base}${path}`, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, headers: res.headers, setCookies: res.headers.getSetCookie(), ms: performance.now() - started };
  } catch (err) {
    return { error: err?.cause?.code ?? err?.name ?? String(err), ms: performance.now() - started };
  }
}

/** The session token a login answer set, or null. */
export function tokenOf(res) {
  for (const line of res.setCookies ?? []) {
    const match = new RegExp(`^${COOKIE}=([^;]+)`).exec(line);
    if (match) return match[1];
  }
  return null;
}

export async function login(base, uid, password, options = {}) {
  const res = await call(base, "/api/authenticate", { method: "POST", body: { uid, password }, ...options });
  return { ...res, token: tokenOf(res) };
}

/** "200×3 503×2 ECONNRESET×1" */
export const tallyText = (results) =>
  Object.entries(results.reduce((counts, r) => ((counts[r.error ?? r.status] = (counts[r.error ?? r.status] ?? 0) + 1), counts), {}))
    .sort()
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");

/**
 * A round-robin reverse proxy over `upstreams()` that, like nginx's `proxy_next_upstream error timeout
 * non_idempotent`, tries the next replica when one refuses the connection or resets it before any answer.
 * Anything else (a reset mid-answer, a 5xx) reaches the client as it came.
 */
export async function startProxy(owner, upstreams) {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries) => {
        const list = upstreams();
        const target = list[next++ % list.length];
        const upstream = http.request({ host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers: { ...req.headers, connection: "close" }, agent: false }, (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        });
        upstream.on("error", (err) => {
          // A stopping replica refuses new connections, and resets the few still in its listen queue when it
          // stops listening: it never read those requests, so another replica gets them. (It answers every
          // request it did read before it exits.)
          const unanswered = err.code === "ECONNREFUSED" || (err.code === "ECONNRESET" && !res.headersSent);
          if (unanswered && tries < list.length * 2) return attempt(tries + 1);
          if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
          res.end(`proxy: ${err.code}`);
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  own(owner, () => new Promise((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
  return `http://127.0.0.1:${server.address().port}`;
}
