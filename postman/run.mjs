// Runs the Postman collection with newman against a real API started from dist/ (SPEC §7), and checks
// that every route the API exposes (listRoutes() from dist/backend/app.js) has a request in the collection.
// Usage, after `npm run build`: node postman/run.mjs   Last line: RESULT passed=N failed=M (exit 1 on failure).
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import newman from "newman";
import { apiEnv, freePort, ROOT, SERVER_ENTRY as SERVER, spawnApi, stopApi, waitForHealth } from "../scripts/api-process.mjs";

const COLLECTION = join(ROOT, "postman", "crossauth.postman_collection.json");
const ENVIRONMENT = join(ROOT, "postman", "localhost.postman_environment.json");
const APP = join(ROOT, "dist", "backend", "app.js");

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000; // above the server's own SHUTDOWN_TIMEOUT_SECONDS (set to 5 below)
const REQUEST_TIMEOUT_MS = 15_000;
const RUN_TIMEOUT_MS = 5 * 60_000;

/** Starts the built API with its own database; its log tail goes into failure reports. */
function startServer(port, dataDir) {
  return spawnApi(
    apiEnv({
      NODE_ENV: "development", // the development seed creates admin/password and user/password
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: `file:${join(dataDir, "newman.db")}`,
      // A throwaway key, so the run neither reads nor persists the development secret of the checkout.
      JWT_SECRET: randomBytes(32).toString("hex"),
      BCRYPT_ROUNDS: "4",
      LOG_LEVEL: "warn",
      RATE_LIMIT_LOGIN_PER_IP: "1000",
      RATE_LIMIT_SIGNUP_PER_IP: "1000",
      SHUTDOWN_TIMEOUT_SECONDS: "5",
    }),
  );
}

function runNewman(baseUrl) {
  return new Promise((resolveRun, reject) => {
    newman.run(
      {
        collection: COLLECTION,
        environment: ENVIRONMENT,
        envVar: [{ key: "baseUrl", value: baseUrl }],
        reporters: ["cli"],
        timeoutRequest: REQUEST_TIMEOUT_MS,
        timeout: RUN_TIMEOUT_MS,
      },
      (err, summary) => (err ? reject(err) : resolveRun(summary)),
    );
  });
}

// ------------------------------------------------------------------ route coverage

/** Every request of the collection as {name, method, segments, tested}; the URL's {{baseUrl}} and query dropped. */
function collectionRequests(collection) {
  const out = [];
  const walk = (items, trail) => {
    for (const item of items) {
      if (item.item) {
        walk(item.item, [...trail, item.name]);
        continue;
      }
      const { method, url } = item.request;
      const raw = typeof url === "string" ? url : url.raw;
      const path = raw.replace(/^\{\{baseUrl\}\}/, "").replace(/^[a-z]+:\/\/[^/]+/i, "").split(/[?#]/)[0];
      const tested = (item.event ?? []).some(
        (e) => e.listen === "test" && [].concat(e.script?.exec ?? []).join("\n").includes("pm.test("),
      );
      out.push({ name: [...trail, item.name].join(" / "), method: method.toUpperCase(), segments: path.split("/").filter(Boolean), tested });
    }
  };
  walk(collection.item, []);
  return out;
}

/** `/api/user/:uid` matches `/api/user/{{victimAUid}}` or `/api/user/alice`: a param matches any one segment. */
function pathMatches(routePath, segments) {
  const parts = routePath.split("/").filter(Boolean);
  return parts.length === segments.length && parts.every((p, i) => p.startsWith(":") || p === segments[i]);
}

async function loadRoutes() {
  if (!existsSync(APP)) throw new Error(`${APP} not found: run \`npm run build\` first`);
  const mod = await import(pathToFileURL(APP).href);
  const listRoutes = mod.listRoutes ?? mod.default?.listRoutes;
  if (typeof listRoutes !== "function") throw new Error("dist/backend/app.js does not export listRoutes()");
  const routes = await listRoutes();
  if (!Array.isArray(routes) || routes.length === 0) throw new Error("listRoutes() returned no routes");
  return routes.map(({ method, path }) => ({ method: String(method).toUpperCase(), path: String(path) }));
}

/** Returns the list of routes (as "METHOD /path") that no tested collection request covers. */
function uncoveredRoutes(routes, requests) {
  const covers = (method, path) => requests.some((r) => r.tested && r.method === method && pathMatches(path, r.segments));
  return routes
    // A HEAD route is the router's automatic twin of a GET route: covered by that GET.
    .filter(({ method, path }) => !(covers(method, path) || (method === "HEAD" && covers("GET", path))))
    .map(({ method, path }) => `${method} ${path}`);
}

async function checkCoverage() {
  const routes = await loadRoutes();
  const requests = collectionRequests(JSON.parse(readFileSync(COLLECTION, "utf8")));
  const missing = uncoveredRoutes(routes, requests);
  console.log(`\nRoute coverage: ${routes.length - missing.length}/${routes.length} routes of listRoutes() have a tested request`);
  for (const route of missing) console.log(`  not covered: ${route}`);
  return missing.length === 0;
}

// ------------------------------------------------------------------ main

async function main() {
  let passed = 0;
  let failed = 0;
  const record = (ok, what) => {
    if (ok) passed += 1;
    else {
      failed += 1;
      if (what) console.log(`FAILED: ${what}`);
    }
  };

  const dataDir = mkdtempSync(join(tmpdir(), "crossauth-newman-"));
  let server = null;
  // Interrupted runs must not leave the API listening.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      server?.child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    if (!existsSync(SERVER)) throw new Error(`${SERVER} not found: run \`npm run build\` first`);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    server = startServer(port, dataDir);
    await waitForHealth(baseUrl, server, { timeoutMs: STARTUP_TIMEOUT_MS });

    const summary = await runNewman(baseUrl);
    const { assertions, testScripts, prerequestScripts, requests } = summary.run.stats;
    passed += assertions.total - assertions.failed;
    failed += assertions.failed;
    // A script that throws or a request that never got an answer is a failure even without an assertion.
    failed += testScripts.failed + prerequestScripts.failed + requests.failed;
    if (summary.run.error) record(false, `newman: ${summary.run.error.message ?? summary.run.error}`);
  } catch (err) {
    record(false, `collection run: ${err.message}`);
  } finally {
    if (server) {
      const { code, signal } = await stopApi(server, STOP_TIMEOUT_MS);
      if (code !== 0) console.error(`\nserver exited with code ${code}${signal ? ` (signal ${signal})` : ""} after SIGTERM`);
      const log = server.output().trim().split("\n").filter(Boolean);
      if ((failed > 0 || code !== 0) && log.length) {
        console.error("last server log lines:");
        for (const line of log.slice(-40)) console.error(`  ${line}`);
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  try {
    record(await checkCoverage(), "every route is covered");
  } catch (err) {
    record(false, `every route is covered: ${err.message}`);
  }

  console.log(`RESULT passed=${passed} failed=${failed}`);
  process.exitCode = failed > 0 ? 1 : 0;
  // Importing app.js may leave handles open (a database client, a worker pool): do not wait on them.
  setTimeout(() => process.exit(), 1000).unref();
}

await main();
