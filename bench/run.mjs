// `npm run bench [-- --db sqlite|postgres|both]`: starts the production build on a free loopback port with a
// throwaway database — SQLite, and PostgreSQL + Redis (throwaway servers) when installed — drives it with
// autocannon beside a bare Koa app (the framework's floor), and reports the performance ratios (README ›
// Performance) of each database from this one run (tables on stdout, JSON in bench/results/).
// It is a report, not a gate: it exits 0 when a target is missed, and prints FAIL for it.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import bcrypt from "bcryptjs";
import { apiEnv, freePort, ROOT, SERVER_ENTRY as SERVER, spawnApi, stopApi, waitForHealth } from "../test/lib/api-process.mjs";
import { median } from "../test/lib/stats.mjs";

const RESULTS = path.join(ROOT, "bench", "results", "latest.json");

// Settings. Health and id use identical ones, and run in alternating slices, so their ratio compares the
// work per request rather than the load shape or a burst of noise. Connections stay modest: autocannon and
// the server share this machine's cores, and a client that starves the server would measure the client.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2; // per endpoint and round; the JIT keeps improving for several seconds
const WARMUP_ROUNDS = 3;
const SLICES = 5; // health and id each run SLICES × SECONDS/SLICES, alternating, so drift hits both alike
const READ_CONNECTIONS = 10;
const CORES = os.availableParallelism();
const LOGIN_CONNECTIONS = CORES * 2; // enough queued logins to keep every bcrypt worker busy
// Checks of one account run one at a time (the account lock), so logins rotate over several accounts, as
// real traffic does; twice as many as connections keeps two in-flight logins off the same account.
const LOGIN_ACCOUNTS = LOGIN_CONNECTIONS * 2;
const BCRYPT_ROUNDS = Number(process.env.BENCH_BCRYPT_ROUNDS ?? 10);
const HASH_SAMPLES = 5;
const STARTUP_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 10 * 60_000; // the whole bench takes about 4 min; this only catches a hang
const NOISY_CORES = 0.1; // other processes using more CPU than this during a scenario make it unreliable

const ADMIN_UID = "benchadmin";
const ADMIN_PASSWORD = `Bench-${crypto.randomBytes(12).toString("base64url")}-9`;
const USER_PASSWORD = `Bench-${crypto.randomBytes(12).toString("base64url")}-8`;

const throwaway = createRequire(import.meta.url)("../test/lib/throwaway.cjs");
const BARE_KOA = path.join(ROOT, "bench", "bare-koa.mjs");

/** Everything this process started, so every exit path can stop it: child processes, temp dirs, servers. */
const owned = { children: new Set(), dirs: new Set(), cannons: new Set(), services: new Set() };

function cleanup() {
  for (const instance of owned.cannons) instance.stop();
  for (const child of owned.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // PostgreSQL and Redis: killed by pid (synchronously: this also runs on "exit"), then their files removed.
  for (const service of owned.services) {
    for (const pid of [service.pid?.() ?? null, service.child?.pid ?? null]) {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    owned.dirs.add(service.dir);
  }
  for (const dir of owned.dirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.once("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`bench: still running after ${RUN_TIMEOUT_MS / 1000} s; giving up`);
  process.exit(1);
}, RUN_TIMEOUT_MS).unref();

/** Nearest-rank percentile of an ascending Float64Array. */
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

// CPU accounting from /proc (Linux; elsewhere these figures are simply absent). It tells whether the server
// or the client was the bottleneck, and whether other processes on the machine disturbed a scenario.
const TICK_SECONDS = 0.01; // USER_HZ is 100 on every Linux this runs on

function readTicks(file) {
  try {
    const fields = fs.readFileSync(file, "utf8").split(")").pop().trim().split(/\s+/);
    return { cpu: (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS, nice: Number(fields[16]) };
  } catch {
    return null;
  }
}

/** CPU seconds of a process and of its children (PostgreSQL runs one process per connection). */
function treeCpu(pid) {
  let total = readTicks(`/proc/${pid}/stat`)?.cpu ?? 0;
  try {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
      if (Number(stat[1]) === pid) total += (Number(stat[11]) + Number(stat[12])) * TICK_SECONDS;
    }
  } catch {
    /* a process ended while we looked */
  }
  return total;
}

function cpuSnapshot(serverPid, dependencyPids = []) {
  let machineBusy = null;
  let machineSteal = null;
  try {
    // user + nice + system: time spent running processes. Interrupt and softirq time is left out, because
    // most of it is this benchmark's own loopback traffic, which the kernel does not charge to a process.
    // steal: time the hypervisor gave this VM's CPUs to someone else.
    const [, user, nice, system, , , , , steal] = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).map(Number);
    machineBusy = (user + nice + system) * TICK_SECONDS;
    machineSteal = steal * TICK_SECONDS;
  } catch {
    /* not Linux */
  }
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    machineBusy,
    machineSteal,
    bench: (own.user + own.system) / 1e6,
    server: serverPid ? readTicks(`/proc/${serverPid}/stat`)?.cpu ?? null : 0,
    eventLoop: serverPid ? readTicks(`/proc/${serverPid}/task/${serverPid}/stat`)?.cpu ?? null : null,
    dependencies: dependencyPids.reduce((sum, pid) => sum + treeCpu(pid), 0),
  };
}

/** Cores used on average between two snapshots, by the server, its event-loop thread, this process and the rest. */
function cpuBetween(a, b) {
  const wall = (b.at - a.at) / 1000;
  const per = (k) => (a[k] === null || b[k] === null ? null : (b[k] - a[k]) / wall);
  const server = per("server");
  const bench = per("bench");
  const machine = per("machineBusy");
  const dependencies = per("dependencies");
  return {
    wallSeconds: wall,
    serverCores: server,
    eventLoopBusy: per("eventLoop"),
    dependencyCores: dependencies,
    benchCores: bench,
    otherCores: machine === null || server === null ? null : Math.max(0, machine - server - bench - (dependencies ?? 0)),
    stolenCores: per("machineSteal"),
  };
}

function addCpu(total, part) {
  if (!total) return { ...part };
  const merged = { wallSeconds: total.wallSeconds + part.wallSeconds };
  for (const k of ["serverCores", "eventLoopBusy", "dependencyCores", "benchCores", "otherCores", "stolenCores"]) {
    merged[k] = total[k] === null || part[k] === null ? null : (total[k] * total.wallSeconds + part[k] * part.wallSeconds) / merged.wallSeconds;
  }
  return merged;
}

/** Server threads running below normal priority (the bcrypt workers, when the pool lowers them). */
function niceThreads(serverPid) {
  try {
    return fs.readdirSync(`/proc/${serverPid}/task`).map((tid) => readTicks(`/proc/${serverPid}/task/${tid}/stat`)?.nice ?? 0).filter((n) => n > 0);
  } catch {
    return null;
  }
}

/** One bcryptjs hash/compare on this thread: the unit "what the bcrypt cost allows" is built from. */
function timeBcrypt(rounds) {
  const time = (fn) => {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  bcrypt.hashSync("warm-up", 4);
  const hashMs = [];
  const compareMs = [];
  let hashed = "";
  const before = cpuSnapshot(null);
  for (let i = 0; i < HASH_SAMPLES; i++) hashMs.push(time(() => (hashed = bcrypt.hashSync("correct horse battery", rounds))));
  for (let i = 0; i < HASH_SAMPLES; i++) compareMs.push(time(() => bcrypt.compareSync("correct horse battery", hashed)));
  const cpu = cpuBetween(before, cpuSnapshot(null));
  // A login is one compare; a compare and a hash at the same cost do the same work.
  const singleHashMs = median([...hashMs, ...compareMs]);
  return { hashMs, compareMs, singleHashMs, otherCores: cpu.otherCores, stolenCores: cpu.stolenCores };
}

/** Where a run's data lives: a SQLite file, or throwaway PostgreSQL + Redis servers (stopped at the end). */
async function startDatabase(kind) {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-bench-"));
    owned.dirs.add(dir);
    return { env: { DATABASE_URL: `file:${path.join(dir, "bench.db")}` }, pids: [], healthJson: { status: "ok", database: "ok", redis: "off" }, stop: async () => {} };
  }
  const pg = await throwaway.startPostgres();
  owned.services.add(pg);
  const redis = await throwaway.startRedis();
  owned.services.add(redis);
  return {
    env: { DATABASE_URL: pg.urlFor("postgres"), REDIS_URL: redis.url },
    pids: [pg.pid(), redis.child.pid],
    healthJson: { status: "ok", database: "ok", redis: "ok" },
    stop: async () => {
      await pg.destroy();
      await redis.destroy();
      owned.services.delete(pg);
      owned.services.delete(redis);
    },
  };
}

async function startServer(port, databaseEnv) {
  const env = apiEnv({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    ...databaseEnv,
    JWT_SECRET: crypto.randomBytes(48).toString("base64url"),
    ALLOWED_ORIGINS: "https://localhost:4100",
    ADMIN_UID,
    ADMIN_PASSWORD,
    LOG_LEVEL: "warn",
    BCRYPT_ROUNDS: String(BCRYPT_ROUNDS),
    RATE_LIMIT_LOGIN_PER_IP: "1000000",
    RATE_LIMIT_SIGNUP_PER_IP: "1000000",
    LOGIN_MAX_FAILURES: "1000",
    SHUTDOWN_TIMEOUT_SECONDS: "5",
  });
  // BENCH_NODE_OPTIONS passes flags to the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeFlags = (process.env.BENCH_NODE_OPTIONS ?? "").split(" ").filter(Boolean);
  const started = performance.now();
  const server = spawnApi(env, { nodeFlags });
  owned.children.add(server.child);
  const url = `http://127.0.0.1:${port}`;
  // Polled often: migrations, seeding (one bcrypt hash) and listen are all inside the startup time.
  await waitForHealth(url, server, { timeoutMs: STARTUP_TIMEOUT_MS, pollMs: 10 });
  return { server, url, startupMs: performance.now() - started };
}

/** The bare Koa reference app, answering `json` on every path; resolves its URL once it answers. */
async function startBareKoa(json) {
  const port = await freePort();
  const child = spawn(process.execPath, [BARE_KOA, String(port), JSON.stringify(json)], { cwd: ROOT, env: { ...process.env, NODE_ENV: "production" }, stdio: "ignore" });
  owned.children.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).status === 200) return { url, child };
    } catch {
      if (i > 200) throw new Error("the bare Koa app did not start");
    }
    await sleep(25);
  }
}

/** Signs up the accounts the login scenarios rotate over; returns their login bodies. */
async function createLoginAccounts(url) {
  const uids = Array.from({ length: LOGIN_ACCOUNTS }, (_, i) => `bench-${i + 1}`);
  await Promise.all(
    uids.map(async (uid) => {
      const res = await fetch(`${url}/api/user`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uid, name: `Bench ${uid}`, password: USER_PASSWORD }),
      });
      if (res.status !== 201) throw new Error(`signup of ${uid} answered ${res.status}: ${await res.text()}`);
    }),
  );
  return uids.map((uid) => JSON.stringify({ uid, password: USER_PASSWORD }));
}

async function loginCookie(url) {
  const res = await fetch(`${url}/api/authenticate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uid: ADMIN_UID, password: ADMIN_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login for the bench user answered ${res.status}: ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.includes("="));
  const check = await fetch(`${url}/api/id`, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`GET /api/id with the bench cookie answered ${check.status}`);
  return cookie;
}

/**
 * One autocannon run. Latencies are collected here at full (sub-millisecond) precision from the
 * `response` events, because autocannon's own histogram rounds to whole milliseconds.
 */
function cannon(options, seconds) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon({ ...options, duration: seconds, pipelining: 1, timeout: 10 }, (err, result) => {
      owned.cannons.delete(instance);
      if (err) return reject(err);
      resolve({ result, latencies });
    });
    owned.cannons.add(instance);
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

/** A scenario's totals, accumulated over one or more autocannon runs (slices). */
function newTally(name, connections) {
  return { name, connections, seconds: 0, requests: 0, errors: 0, non2xx: 0, statusCodes: {}, latencies: [], cpu: null };
}

function addRun(tally, { result, latencies }, cpu) {
  tally.seconds += result.duration;
  tally.requests += result.requests.total;
  tally.errors += result.errors + result.timeouts;
  tally.non2xx += result.non2xx;
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) tally.statusCodes[code] = (tally.statusCodes[code] ?? 0) + count;
  for (const ms of latencies) tally.latencies.push(ms);
  tally.cpu = addCpu(tally.cpu, cpu);
}

function summarize(tally) {
  const sorted = Float64Array.from(tally.latencies).sort();
  const reqPerSec = tally.requests / tally.seconds;
  const { cpu } = tally;
  return {
    scenario: tally.name,
    connections: tally.connections,
    seconds: tally.seconds,
    requests: tally.requests,
    reqPerSec,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors: tally.errors,
    non2xx: tally.non2xx,
    statusCodes: tally.statusCodes,
    serverCpuUsPerRequest: cpu.serverCores === null ? null : (cpu.serverCores * 1e6) / reqPerSec,
    dependencyCpuUsPerRequest: cpu.dependencyCores === null ? null : (cpu.dependencyCores * 1e6) / reqPerSec,
    eventLoopUsPerRequest: cpu.eventLoopBusy === null ? null : (cpu.eventLoopBusy * 1e6) / reqPerSec,
    ...cpu,
  };
}

const fmt = (n, digits = 1) => (typeof n === "number" && Number.isFinite(n) ? n.toFixed(digits) : "—");
const pct = (n) => (typeof n === "number" && Number.isFinite(n) ? `${Math.round(n * 100)}%` : "—");

function printTable(rows) {
  const header = ["scenario", "conns", "req/s", "p50 ms", "p99 ms", "errors/non-2xx", "server µs/req", "pg+redis µs/req", "event loop", "others/steal"];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.connections),
    fmt(r.reqPerSec),
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    `${r.errors}/${r.non2xx}`,
    r.shared ? "〃" : fmt(r.serverCpuUsPerRequest, 0),
    r.shared ? "〃" : r.dependencyCores ? fmt(r.dependencyCpuUsPerRequest, 0) : "—",
    r.shared ? "〃" : pct(r.eventLoopBusy),
    r.shared ? "〃" : `${fmt(r.otherCores, 2)}/${fmt(r.stolenCores, 2)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(row(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(row(l));
}

const KIND_TITLES = { sqlite: "SQLite (embedded default)", postgres: "PostgreSQL + Redis (several replicas)" };
// The floor GET /api/id must reach: SQLite's session reads are local; PostgreSQL's need a Redis round trip.
const ID_TARGET = { sqlite: 0.9, postgres: 0.8 };
const ID_OF_KOA_TARGET = 0.6;

/** One database's run: the five scenarios and the bare Koa slices; resolves its rows and ratios. */
async function benchDatabase(kind, allowedLoginsPerSec) {
  console.log(`\n== ${KIND_TITLES[kind]}`);
  const database = await startDatabase(kind);
  const api = await startServer(await freePort(), database.env);
  const koa = await startBareKoa(database.healthJson);
  const { pid } = api.server;
  console.log(`startup (process start → first 200 from /api/health): ${fmt(api.startupMs, 0)} ms`);

  const cookie = await loginCookie(api.url);
  const loginBodies = await createLoginAccounts(api.url);
  let nextLogin = 0;
  const health = { url: `${api.url}/api/health`, connections: READ_CONNECTIONS };
  const id = { url: `${api.url}/api/id`, connections: READ_CONNECTIONS, headers: { cookie } };
  const bare = { url: `${koa.url}/api/health`, connections: READ_CONNECTIONS };
  const bareWithHeaders = { url: `${koa.url}/with-headers`, connections: READ_CONNECTIONS };
  const bareEndOfTurn = { url: `${koa.url}/end-of-turn`, connections: READ_CONNECTIONS };
  const login = {
    url: api.url,
    connections: LOGIN_CONNECTIONS,
    requests: [
      {
        method: "POST",
        path: "/api/authenticate",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({ ...req, body: loginBodies[nextLogin++ % loginBodies.length] }),
      },
    ],
  };
  const measured = async (tallies, runs, processId = pid) => {
    const before = cpuSnapshot(processId, database.pids);
    const results = await Promise.all(runs);
    const cpu = cpuBetween(before, cpuSnapshot(processId, database.pids));
    results.forEach((r, i) => addRun(tallies[i], r, cpu));
  };
  const settle = () => sleep(300);

  const tallies = {
    koa: newTally("bare Koa, same JSON", READ_CONNECTIONS),
    health: newTally("GET /api/health", READ_CONNECTIONS),
    id: newTally("GET /api/id (cookie)", READ_CONNECTIONS),
    login: newTally(`POST /api/authenticate (cost ${BCRYPT_ROUNDS})`, LOGIN_CONNECTIONS),
    idBesideLogins: newTally("GET /api/id, slices without logins", READ_CONNECTIONS),
    idUnderLoad: newTally("GET /api/id, slices with logins", READ_CONNECTIONS),
    loginsMeanwhile: newTally("  + the logins meanwhile", LOGIN_CONNECTIONS),
    koaHeaders: newTally("bare Koa + crossauth's headers", READ_CONNECTIONS),
    koaEndOfTurn: newTally("bare Koa, writing at end of turn", READ_CONNECTIONS),
  };

  process.stdout.write("running: warm-up");
  for (let i = 0; i < WARMUP_ROUNDS; i++) {
    await cannon(bare, WARMUP_SECONDS);
    await cannon(bareWithHeaders, WARMUP_SECONDS);
    await cannon(bareEndOfTurn, WARMUP_SECONDS);
    await cannon(health, WARMUP_SECONDS);
    await cannon(id, WARMUP_SECONDS);
  }
  process.stdout.write(", koa ⇄ koa with headers ⇄ koa at end of turn ⇄ health ⇄ id");
  const reads = { koa: bare, koaHeaders: bareWithHeaders, koaEndOfTurn: bareEndOfTurn, health, id };
  for (let i = 0; i < SLICES; i++) {
    // Rotating order: no endpoint always runs first or last.
    const order = ["koa", "koaHeaders", "koaEndOfTurn", "health", "id"];
    for (let k = 0; k < i % order.length; k++) order.push(order.shift());
    for (const which of i % 2 ? order.reverse() : order) {
      await measured([tallies[which]], [cannon(reads[which], SECONDS / SLICES)], which.startsWith("koa") ? koa.child.pid : pid);
    }
  }
  await settle();
  process.stdout.write(", login");
  await cannon(login, WARMUP_SECONDS);
  await measured([tallies.login], [cannon(login, SECONDS)]);
  await settle();
  process.stdout.write(", id with and without logins");
  // Alternating slices again (ABBA), so the p99 with logins is compared with a p99 measured right beside
  // it, not a minute earlier. Each login slice starts its logins first and stops them after the id slice,
  // so every id request in it is answered while the bcrypt workers are busy.
  for (let s = 0; s < SLICES; s++) {
    for (const which of s % 2 ? ["during", "alone"] : ["alone", "during"]) {
      if (which === "alone") {
        await measured([tallies.idBesideLogins], [cannon(id, SECONDS / SLICES)]);
      } else {
        const loginsMeanwhile = cannon(login, SECONDS / SLICES + 1);
        await sleep(500);
        await measured([tallies.idUnderLoad, tallies.loginsMeanwhile], [cannon(id, SECONDS / SLICES), loginsMeanwhile]);
      }
      await settle(); // the hashes autocannon abandoned finish before the next slice
    }
  }
  const workerNice = niceThreads(pid);
  process.stdout.write("\n");

  await sleep(1000); // lets the logins autocannon abandoned finish, so shutdown drains an idle server
  await stopApi(api.server, 8000);
  koa.child.kill("SIGTERM");
  owned.children.delete(api.server.child);
  await database.stop();

  const rows = Object.values(tallies).map(summarize);
  rows[6].shared = true; // one CPU window for the two concurrent instances
  const [k, h, i, l, b, u, , kh, kt] = rows;
  const shownRows = [k, kh, kt, ...rows.slice(1, 7)];
  const ratios = [
    {
      target: `authenticated throughput ≥ ${ID_TARGET[kind] * 100}% of health's`,
      value: i.reqPerSec / h.reqPerSec,
      threshold: ID_TARGET[kind],
      detail: `${fmt(i.reqPerSec)} / ${fmt(h.reqPerSec)} req/s`,
    },
    {
      target: "p99 of GET /api/id during logins ≤ 2× its p99 alone",
      value: u.p99Ms / b.p99Ms,
      threshold: 2,
      atMost: true,
      detail: `${fmt(u.p99Ms, 2)} / ${fmt(b.p99Ms, 2)} ms, in alternating slices`,
    },
    {
      target: "login throughput ≥ 80% of cores ÷ single-hash time",
      value: l.reqPerSec / allowedLoginsPerSec,
      threshold: 0.8,
      detail: `${fmt(l.reqPerSec)} / ${fmt(allowedLoginsPerSec)} logins/s`,
    },
    {
      target: `GET /api/id ≥ ${ID_OF_KOA_TARGET} of bare Koa's throughput${kind === "sqlite" ? "" : " (reported)"}`,
      value: i.reqPerSec / k.reqPerSec,
      threshold: kind === "sqlite" ? ID_OF_KOA_TARGET : null,
      detail: `${fmt(i.reqPerSec)} / ${fmt(k.reqPerSec)} req/s; health is ${fmt(h.reqPerSec / k.reqPerSec, 2)} of Koa`,
    },
    {
      // What the headers every answer must carry cost by themselves, so the rest of the gap is what the stack adds.
      target: "GET /api/id of bare Koa sending the same headers (reported)",
      value: i.reqPerSec / kh.reqPerSec,
      threshold: null,
      detail: `${fmt(i.reqPerSec)} / ${fmt(kh.reqPerSec)} req/s; those headers alone take bare Koa to ${fmt(kh.reqPerSec / k.reqPerSec, 2)} of itself`,
    },
    {
      // crossauth writes its answers at the end of the event loop's turn; this is bare Koa doing the same.
      target: "GET /api/id of bare Koa writing at the end of the turn too (reported)",
      value: i.reqPerSec / kt.reqPerSec,
      threshold: null,
      detail: `${fmt(i.reqPerSec)} / ${fmt(kt.reqPerSec)} req/s; writing at the end of the turn takes bare Koa to ${fmt(kt.reqPerSec / k.reqPerSec, 2)} of itself`,
    },
  ].map((r) => ({ ...r, pass: r.threshold === null ? null : r.atMost ? r.value <= r.threshold : r.value >= r.threshold }));

  console.log("");
  printTable(shownRows);
  console.log("");
  console.log(`startup ${fmt(api.startupMs, 0)} ms; server threads below normal priority: ${workerNice === null ? "unknown" : workerNice.length ? `${workerNice.length} (nice ${[...new Set(workerNice)].join(",")})` : "none"}`);
  console.log(
    `CPU per authenticated request: API ${fmt(i.serverCpuUsPerRequest, 0)} µs (event loop ${fmt(i.eventLoopUsPerRequest)} µs)` +
      (kind === "postgres" ? ` + PostgreSQL and Redis ${fmt(i.dependencyCpuUsPerRequest, 0)} µs` : "") +
      `; health: API ${fmt(h.serverCpuUsPerRequest, 0)} µs (event loop ${fmt(h.eventLoopUsPerRequest)} µs); bare Koa ${fmt(k.serverCpuUsPerRequest, 0)} µs`,
  );
  for (const r of ratios) {
    const shown = r.atMost ? `${fmt(r.value, 2)}×` : r.threshold === ID_OF_KOA_TARGET || r.threshold === null ? `${fmt(r.value, 2)}` : `${fmt(r.value * 100)}%`;
    console.log(`${r.pass === null ? "INFO" : r.pass ? "PASS" : "FAIL  <<<"}  ${r.target}: ${shown} (${r.detail})`);
  }
  const warnings = [];
  for (const r of rows) {
    if (r.errors > 0 || r.non2xx > 0) warnings.push(`${r.scenario.trim()}: ${r.errors} errors, ${r.non2xx} non-2xx ${JSON.stringify(r.statusCodes)}`);
    if (!r.shared && (r.otherCores > NOISY_CORES || r.stolenCores > NOISY_CORES)) {
      warnings.push(`${r.scenario.trim()}: other processes used ${fmt(r.otherCores, 2)} cores and the hypervisor took ${fmt(r.stolenCores, 2)} meanwhile; this row is not reliable`);
    }
  }
  for (const w of warnings) console.log(`WARNING  ${w}`);
  return {
    database: kind,
    startupMs: api.startupMs,
    serverThreadsBelowNormalPriority: workerNice,
    scenarios: shownRows.map(({ shared: _s, ...r }) => ({ ...r, scenario: r.scenario.trim() })),
    ratios,
    warnings,
  };
}

function chosenDatabases() {
  const flag = process.argv.indexOf("--db");
  const choice = flag > 0 ? process.argv[flag + 1] : process.env.BENCH_DATABASES ?? "both";
  if (!["sqlite", "postgres", "both"].includes(choice)) throw new Error("--db takes sqlite, postgres or both");
  if (choice !== "both") return [choice];
  const services = throwaway.availability();
  if (services.ok) return ["sqlite", "postgres"];
  console.log(`PostgreSQL + Redis: not measured (${services.missing.join(" and ")} missing; install with: ${services.install})`);
  return ["sqlite"];
}

async function main() {
  if (!fs.existsSync(SERVER)) throw new Error(`${path.relative(ROOT, SERVER)} is missing: run \`npm run bench\` (it builds first)`);
  const databases = chosenDatabases();

  console.log(`crossauth bench — ${CORES} cores (${os.cpus()[0]?.model.trim() ?? "unknown CPU"}), node ${process.version}, bcrypt cost ${BCRYPT_ROUNDS}, ${SECONDS} s per scenario`);
  const hashing = timeBcrypt(BCRYPT_ROUNDS);
  const allowedLoginsPerSec = CORES / (hashing.singleHashMs / 1000);
  console.log(
    `bcryptjs single hash at cost ${BCRYPT_ROUNDS}: ${fmt(hashing.singleHashMs)} ms (median of ${HASH_SAMPLES} hash + ${HASH_SAMPLES} compare)` +
      ` → the cost allows ${CORES} ÷ ${fmt(hashing.singleHashMs / 1000, 4)} s = ${fmt(allowedLoginsPerSec)} logins/s`,
  );
  if (hashing.otherCores > NOISY_CORES || hashing.stolenCores > NOISY_CORES) {
    console.log(`WARNING  single-hash timing: other processes used ${fmt(hashing.otherCores, 2)} cores and the hypervisor took ${fmt(hashing.stolenCores, 2)} meanwhile`);
  }

  const runs = [];
  for (const kind of databases) runs.push(await benchDatabase(kind, allowedLoginsPerSec));

  const judged = runs.flatMap((r) => r.ratios.filter((x) => x.pass !== null).map((x) => ({ ...x, database: r.database })));
  const missed = judged.filter((r) => !r.pass);
  console.log("");
  console.log(missed.length === 0 ? "all performance targets met" : `${missed.length} of ${judged.length} performance targets MISSED: ${missed.map((m) => `${m.database}: ${m.target}`).join("; ")}`);

  const report = {
    date: new Date().toISOString(),
    machine: { cores: CORES, cpu: os.cpus()[0]?.model.trim() ?? null, node: process.version, platform: `${os.platform()} ${os.release()}` },
    settings: {
      secondsPerScenario: SECONDS,
      slices: SLICES,
      warmupSeconds: WARMUP_SECONDS,
      warmupRounds: WARMUP_ROUNDS,
      readConnections: READ_CONNECTIONS,
      loginConnections: LOGIN_CONNECTIONS,
      loginAccounts: LOGIN_ACCOUNTS,
      pipelining: 1,
    },
    bcrypt: { cost: BCRYPT_ROUNDS, ...hashing, allowedLoginsPerSec },
    runs,
    allTargetsMet: missed.length === 0,
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
  console.log(`results: ${path.relative(ROOT, RESULTS)}`);
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err) => {
    console.error(`bench: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
