// Dependencies failing under traffic (README › Several replicas › When a dependency fails): Redis killed, then
// PostgreSQL restarted, while three replicas serve reads, logins and signups. Only the documented answers may
// come back, none later than DEPENDENCY_TIMEOUT_MS allows, every replica recovers without a restart, and no
// write that was answered as committed is lost. Then a rolling restart behind a proxy drops no request.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { call, DEPENDENCY_TIMEOUT_MS, login, sleep, startCluster, startProxy, startReplica, tallyText } from "./cluster.mjs";

const PASSWORD = "orbit-lantern-42";
/** How much longer than DEPENDENCY_TIMEOUT_MS an answer may take (scheduling on a busy 2-core machine). */
const SLACK_MS = 1500;

describe("several replicas: failures and restarts", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let cluster;
  let token;
  let signups = 0;

  before(async () => {
    cluster = await startCluster(group, { env: { RATE_LIMIT_LOGIN_PER_IP: "100000", RATE_LIMIT_SIGNUP_PER_IP: "100000" } });
    const created = await call(cluster.apis[0].url, "/api/user", { method: "POST", body: { uid: "steady", name: "Steady Reader", password: PASSWORD } });
    assert.equal(created.status, 201);
    token = (await login(cluster.apis[0].url, "steady", PASSWORD)).token;
  }, { timeout: 180_000 });

  /**
   * Reads with a session, logins and signups on every replica, `workers` at a time, until stop(): resolves
   * every answer as { kind, status, code, retryAfter, ms, uid? }.
   */
  function traffic(bases, workers = 6) {
    let running = true;
    const results = [];
    const kinds = ["read", "read", "login", "signup"];
    const loops = Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; running; i++) {
        const base = bases()[(w + i) % bases().length];
        const kind = kinds[(w + i) % kinds.length];
        let res;
        let uid;
        if (kind === "read") res = await call(base, "/api/id", { cookie: token });
        else if (kind === "login") res = await login(base, "steady", PASSWORD);
        else {
          uid = `writer-${++signups}`;
          res = await call(base, "/api/user", { method: "POST", body: { uid, name: "Committed Writer", password: PASSWORD } });
        }
        results.push({ kind, status: res.status, error: res.error, code: res.json?.code, retryAfter: res.headers?.get("retry-after"), ms: res.ms, uid });
        await sleep(5);
      }
    });
    return {
      async stop() {
        running = false;
        await Promise.all(loops);
        return results;
      },
    };
  }

  const bases = () => cluster.apis.map((api) => api.url);
  const health = () => Promise.all(bases().map((base) => call(base, "/api/health")));

  async function until(condition, what, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }

  /** Every signup answered 201 is an account that exists now. */
  async function assertCommittedWritesKept(results) {
    const committed = results.filter((r) => r.kind === "signup" && r.status === 201).map((r) => r.uid);
    const admin = (await login(bases()[0], "admin", "password")).token;
    const listed = await call(bases()[0], "/api/user", { cookie: admin });
    const present = new Set(listed.json.map((u) => u.uid));
    const lost = committed.filter((uid) => !present.has(uid));
    assert.deepEqual(lost, [], `${lost.length} of ${committed.length} committed signups are gone`);
    return committed.length;
  }

  test("Redis killed mid-traffic: reads keep working from the database, logins and signups answer 503 with Retry-After, all recover", async (t) => {
    const load = traffic(bases);
    t.after(() => load.stop()); // also when an assertion fails midway
    await sleep(1000);
    await cluster.redis.kill();
    await sleep(2500);
    const during = await health();
    await cluster.redis.start();
    await until(async () => (await health()).every((r) => r.status === 200), "every replica reconnecting to Redis");
    await sleep(1000);
    const results = await load.stop();
    t.diagnostic(`answers: ${tallyText(results)}`);

    assert.deepEqual(during.map((r) => [r.status, r.json?.code, r.json?.data?.redis, r.json?.data?.database]), bases().map(() => [503, "UNAVAILABLE", "down", "ok"]));
    for (const r of results) {
      const allowed = r.kind === "read" ? r.status === 200 : r.status === (r.kind === "login" ? 200 : 201) || (r.status === 503 && r.code === "UNAVAILABLE" && /^\d+$/.test(r.retryAfter ?? ""));
      assert(allowed, `a ${r.kind} got ${r.status ?? r.error} ${r.code ?? ""}`);
      assert(r.ms < DEPENDENCY_TIMEOUT_MS + SLACK_MS, `a ${r.kind} took ${Math.round(r.ms)} ms`);
    }
    assert(results.some((r) => r.kind === "login" && r.status === 503), "no login met the outage: it was too short to test anything");
    assert(results.some((r) => r.kind === "read" && r.status === 200), "no read was answered");
    t.diagnostic(`committed signups kept: ${await assertCommittedWritesKept(results)}`);

    // After the outage the caches are exact again: a logout on one replica is seen by the others at once.
    const session = (await login(bases()[0], "steady", PASSWORD)).token;
    for (const base of bases()) assert.equal((await call(base, "/api/id", { cookie: session })).status, 200);
    assert.equal((await call(bases()[1], "/api/authenticate", { method: "DELETE", cookie: session })).status, 200);
    for (const base of bases()) assert.equal((await call(base, "/api/id", { cookie: session })).json?.code, "TOKEN_REVOKED");
  });

  test("PostgreSQL restarted mid-traffic: 503 UNAVAILABLE while it is down, health names it, every replica recovers without a restart", async (t) => {
    const load = traffic(bases);
    t.after(() => load.stop()); // also when an assertion fails midway
    await sleep(1000);
    await cluster.pg.stop();
    await sleep(2500);
    const during = await health();
    await cluster.pg.start();
    await until(async () => (await health()).every((r) => r.status === 200), "every replica reaching PostgreSQL again");
    await until(async () => (await login(bases()[2], "steady", PASSWORD)).status === 200, "logins working again");
    await sleep(1000);
    const results = await load.stop();
    t.diagnostic(`answers: ${tallyText(results)}`);

    assert.deepEqual(during.map((r) => [r.status, r.json?.code, r.json?.data?.database, r.json?.data?.redis]), bases().map(() => [503, "UNAVAILABLE", "down", "ok"]));
    for (const r of results) {
      const ok = r.status === (r.kind === "signup" ? 201 : 200);
      assert(ok || (r.status === 503 && r.code === "UNAVAILABLE"), `a ${r.kind} got ${r.status ?? r.error} ${r.code ?? ""}`);
      assert(r.ms < DEPENDENCY_TIMEOUT_MS + SLACK_MS, `a ${r.kind} took ${Math.round(r.ms)} ms`);
    }
    assert(results.some((r) => r.status === 503), "no request met the outage: it was too short to test anything");
    t.diagnostic(`committed signups kept: ${await assertCommittedWritesKept(results)}`);
  });

  test("a rolling restart, one replica at a time with SIGTERM, behind a load balancer drops no request", async (t) => {
    const proxy = await startProxy(group, () => cluster.apis);
    const load = traffic(() => [proxy], 6);
    t.after(() => load.stop()); // also when an assertion fails midway
    await sleep(800);
    for (let i = 0; i < cluster.apis.length; i++) {
      const old = cluster.apis[i];
      const stopping = old.stop();
      // The balancer keeps sending to it until it refuses connections; then to the others.
      const exit = await stopping;
      assert.equal(exit.code, 0, `replica ${i} did not drain cleanly (${JSON.stringify(exit)}); its output:\n${old.server.output().slice(-3000)}`);
      cluster.apis[i] = await startReplica(group, cluster);
      await sleep(300);
    }
    await sleep(800);
    const results = await load.stop();
    t.diagnostic(`answers: ${tallyText(results)}`);
    const bad = results.filter((r) => r.status !== (r.kind === "signup" ? 201 : 200));
    assert.deepEqual(bad, [], `${bad.length} of ${results.length} requests failed: ${tallyText(bad)}`);
    assert(results.length > 100, `only ${results.length} requests ran during the restart`);
    await assertCommittedWritesKept(results);
  });
});
