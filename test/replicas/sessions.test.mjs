// Three replicas on one PostgreSQL + Redis (README › Several replicas): a session made on one is valid on the
// others; logout, logout-all, a role change and a delete on one are seen by the very next request to each
// other replica; parallel signups of one uid give one 201; failed logins spread over replicas lock the account
// after exactly LOGIN_MAX_FAILURES; per-IP limits are shared; the admin CLI's changes reach every replica.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../lib/api-process.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { call, login, MAX_FAILURES, startCluster, tallyText } from "./cluster.mjs";

const PASSWORD = "orbit-lantern-42";
const IP_LIMIT = 7;

describe("several replicas: sessions, revocation, limits", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let cluster;
  let apis;
  let ip = 0;
  // Each check comes from its own client address (TRUST_PROXY), so their per-IP counts stay apart.
  const nextIp = () => `198.51.100.${++ip}`;

  before(async () => {
    cluster = await startCluster(group, { env: { TRUST_PROXY: "true", RATE_LIMIT_LOGIN_PER_IP: String(IP_LIMIT), RATE_LIMIT_SIGNUP_PER_IP: "1000" } });
    apis = cluster.apis.map((api) => api.url);
  }, { timeout: 180_000 });

  async function signupAndLogin(uid, on = apis[0]) {
    const address = nextIp();
    const created = await call(on, "/api/user", { method: "POST", body: { uid, name: `Replica ${uid}`, password: PASSWORD }, ip: address });
    assert.equal(created.status, 201, `signup ${uid}: ${created.status} ${JSON.stringify(created.json)}`);
    const session = await login(on, uid, PASSWORD, { ip: address });
    assert.equal(session.status, 200);
    return session.token;
  }

  /** GET /api/id with `token` on every replica; each answer's status (and role). */
  const everywhere = (token) => Promise.all(apis.map((base) => call(base, "/api/id", { cookie: token })));

  test("a session made on one replica is valid on every other", async () => {
    const token = await signupAndLogin("roamer", apis[1]);
    const answers = await everywhere(token);
    assert.deepEqual(answers.map((r) => [r.status, r.json?.uid]), apis.map(() => [200, "roamer"]));
  });

  test("logout on one replica is refused by the next request to each other replica, though all had it cached", async () => {
    const token = await signupAndLogin("leaver");
    for (let i = 0; i < 3; i++) assert.deepEqual((await everywhere(token)).map((r) => r.status), [200, 200, 200]);
    const out = await call(apis[2], "/api/authenticate", { method: "DELETE", cookie: token, headers: { Origin: "http://localhost:4100" } });
    assert.equal(out.status, 200);
    assert.deepEqual((await everywhere(token)).map((r) => [r.status, r.json?.code]), apis.map(() => [401, "TOKEN_REVOKED"]));
  });

  test("logout-all on one replica ends every session everywhere at once", async () => {
    await signupAndLogin("everywhere");
    const sessions = await Promise.all(apis.map((base) => login(base, "everywhere", PASSWORD, { ip: nextIp() }).then((r) => r.token)));
    for (const token of sessions) assert.deepEqual((await everywhere(token)).map((r) => r.status), [200, 200, 200]);
    assert.equal((await call(apis[1], "/api/authenticate?all=true", { method: "DELETE", cookie: sessions[0] })).status, 200);
    for (const token of sessions) assert.deepEqual((await everywhere(token)).map((r) => r.json?.code), apis.map(() => "TOKEN_REVOKED"));
  });

  test("a role change on one replica is seen by the next request to each other replica", async () => {
    const token = await signupAndLogin("promoted");
    const admin = (await login(apis[0], "admin", "password", { ip: nextIp() })).token;
    assert.deepEqual((await everywhere(token)).map((r) => r.json?.role), ["User", "User", "User"]);
    const changed = await call(apis[2], "/api/user/promoted", { method: "PUT", cookie: admin, body: { role: "Admin" } });
    assert.equal(changed.status, 200);
    // A role change ends the user's sessions (docs/api.md › Routes); after logging in again, every replica says Admin.
    assert.deepEqual((await everywhere(token)).map((r) => r.json?.code), apis.map(() => "TOKEN_REVOKED"));
    const again = (await login(apis[1], "promoted", PASSWORD, { ip: nextIp() })).token;
    assert.deepEqual((await everywhere(again)).map((r) => r.json?.role), ["Admin", "Admin", "Admin"]);
    // A name change (no revocation) is seen at once too: the cache shows nothing stale.
    assert.equal((await call(apis[0], "/api/user", { method: "PUT", cookie: again, body: { name: "Renamed Everywhere" } })).status, 200);
    assert.deepEqual((await everywhere(again)).map((r) => r.json?.name), apis.map(() => "Renamed Everywhere"));
  });

  test("a user deleted on one replica is refused by the next request to each other replica", async () => {
    const token = await signupAndLogin("deleted");
    const admin = (await login(apis[2], "admin", "password", { ip: nextIp() })).token;
    assert.deepEqual((await everywhere(token)).map((r) => r.status), [200, 200, 200]);
    assert.equal((await call(apis[0], "/api/user/deleted", { method: "DELETE", cookie: admin })).status, 204);
    assert.deepEqual((await everywhere(token)).map((r) => [r.status, r.json?.code]), apis.map(() => [401, "TOKEN_INVALID"]));
  });

  test("parallel signups of one uid spread over the replicas give exactly one 201", async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(apis[i % apis.length], "/api/user", { method: "POST", body: { uid: i % 2 ? "Racer" : "racer", name: `Racer ${i}`, password: PASSWORD }, ip: nextIp() })),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1, tallyText(results));
    assert.equal(results.filter((r) => r.status === 409 && r.json?.code === "UID_TAKEN").length, 29, tallyText(results));
  });

  test(`failed logins spread over the replicas lock the account after exactly LOGIN_MAX_FAILURES=${MAX_FAILURES}`, async () => {
    await signupAndLogin("guessed");
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => login(apis[i % apis.length], "guessed", `wrong-${i}`, { ip: nextIp() })));
    assert.equal(results.filter((r) => r.status === 401).length, MAX_FAILURES, tallyText(results));
    assert.equal(results.filter((r) => r.status === 429 && r.json?.code === "RATE_LIMITED").length, 15 - MAX_FAILURES, tallyText(results));
    // The right password is refused too, on every replica, while the lock lasts.
    for (const base of apis) assert.equal((await login(base, "guessed", PASSWORD, { ip: nextIp() })).status, 429);
    // Parallel correct logins of another account all succeed (one check at a time, not one success at a time).
    await signupAndLogin("tabs");
    const tabs = await Promise.all(Array.from({ length: 9 }, (_, i) => login(apis[i % apis.length], "tabs", PASSWORD, { ip: nextIp() })));
    assert.deepEqual(tabs.map((r) => r.status), Array(9).fill(200));
  });

  test(`per-IP limits are shared: RATE_LIMIT_LOGIN_PER_IP=${IP_LIMIT} counts logins on every replica together`, async () => {
    const address = nextIp();
    const results = [];
    for (let i = 0; i < IP_LIMIT + 2; i++) results.push(await login(apis[i % apis.length], `nobody-${i}`, "whatever-pw", { ip: address }));
    assert.deepEqual(results.map((r) => r.status), [...Array(IP_LIMIT).fill(401), 429, 429]);
    assert.match(results.at(-1).headers.get("retry-after") ?? "", /^\d+$/);
  });

  test("the admin CLI's changes reach every replica's next request", async () => {
    const token = await signupAndLogin("cli-target");
    assert.deepEqual((await everywhere(token)).map((r) => r.status), [200, 200, 200]);
    const env = { ...cluster.apis[0].env, NODE_ENV: "development" };
    await promisify(execFile)(process.execPath, ["dist/backend/cli/user.js", "set-role", "cli-target", "Admin"], { cwd: ROOT, env });
    assert.deepEqual((await everywhere(token)).map((r) => r.json?.code), apis.map(() => "TOKEN_REVOKED"));
  });
});
