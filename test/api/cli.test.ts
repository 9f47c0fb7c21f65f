// The admin CLI (`npm run user -- …`) run as a real process against a real SQLite file.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../backend/config";
import { expectError, freshDatabaseFile, loginAs, makeTestApp } from "./helpers";

const run = promisify(execFile);
const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const cliPath = path.join(PROJECT_ROOT, "backend", "cli", "user.ts");

async function cli(databaseFile: string, args: string[]) {
  return run(process.execPath, [tsx, cliPath, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: `file:${databaseFile}`, BCRYPT_ROUNDS: "4" },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

it("creates an admin (password from stdin), changes roles, resets passwords and deletes, as the API sees it", async () => {
  const databaseFile = freshDatabaseFile();
  const created = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [tsx, cliPath, "create", "Alice", "--name", "Alice Admin", "--role", "Admin"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: `file:${databaseFile}`, BCRYPT_ROUNDS: "4" },
    }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
    child.stdin?.end("alice-password\n");
  });
  expect(created).toMatchObject({ code: 0 });
  expect(created.stdout).toMatch(/created Alice \(Admin/);

  const t = await makeTestApp({ DEMO_USERS: "false", ADMIN_UID: "root", ADMIN_PASSWORD: "root-password" }, { databaseFile });
  try {
    const alice = await loginAs(t, "alice", "alice-password");
    expect((await t.http().get("/api/id").set("Cookie", alice)).body).toMatchObject({ uid: "Alice", role: "Admin" });

    expect((await cli(databaseFile, ["set-role", "alice", "User"])).stdout).toMatch(/alice is now User/i);
    expectError(await t.http().get("/api/id").set("Cookie", alice), 401, "TOKEN_REVOKED");

    expect((await cli(databaseFile, ["set-password", "alice", "--password", "new-alice-password"])).code).toBe(0);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: "new-alice-password" })).status).toBe(200);

    const refused = await cli(databaseFile, ["set-password", "alice", "--password", "short"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/VALIDATION_FAILED: .*password must be at least 8 characters/);

    expect((await cli(databaseFile, ["list"])).stdout).toMatch(/Alice[\s\S]*root/);
    expect((await cli(databaseFile, ["delete", "alice"])).code).toBe(0);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: "new-alice-password" })).status).toBe(401);
    expect((await cli(databaseFile, ["delete", "alice"])).stderr).toMatch(/USER_NOT_FOUND/);
  } finally {
    await t.close();
  }
}, 60_000);

it("prints usage and exits 2 for an unknown command", async () => {
  const res = await cli(freshDatabaseFile(), ["frobnicate"]);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/unknown command 'frobnicate'[\s\S]*Usage: npm run user/);
});
