// The migration runner (backend/db/migrate.ts), on this run's database: it records migrations in Prisma's own
// format, applies nothing twice, and two replicas starting at once do not both migrate.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { PROJECT_ROOT } from "../../backend/config";
import { applyMigrations } from "../../backend/db/migrate";
import { dialect, postgresUrl, tempDir } from "./helpers";
import type { DatabaseConfig } from "../../backend/config";

const migrationsDir = path.join(PROJECT_ROOT, "prisma", ...(dialect === "postgres" ? ["postgres"] : []), "migrations");
const committed = fs.readdirSync(migrationsDir).filter((n) => fs.existsSync(path.join(migrationsDir, n, "migration.sql"))).sort();

/** An empty database (no template): what a first deployment starts from. */
async function emptyDatabase(): Promise<{ config: DatabaseConfig; rows(): Promise<Array<{ migration_name: string; checksum: string }>>; drop(): Promise<void> }> {
  const query = `SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`;
  if (dialect === "sqlite") {
    const file = path.join(tempDir("migrate"), "empty.db");
    const Database = (await import("better-sqlite3")).default;
    return {
      config: { kind: "sqlite", file },
      rows: async () => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare(query).all() as Array<{ migration_name: string; checksum: string }>;
        } finally {
          db.close();
        }
      },
      drop: async () => undefined,
    };
  }
  const name = `empty_${crypto.randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = postgresUrl(name);
  return {
    config: { kind: "postgres", url, schema: undefined, poolSize: 1 },
    rows: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(query)).rows;
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

it("applies every committed migration once, recorded as Prisma records them, even when two replicas start together", async () => {
  const database = await emptyDatabase();
  try {
    const [first, second] = await Promise.all([applyMigrations(database.config), applyMigrations(database.config)]);
    expect([first, second].sort((a, b) => b.length - a.length)).toEqual([committed, []]);
    const checksum = (name: string) => crypto.createHash("sha256").update(fs.readFileSync(path.join(migrationsDir, name, "migration.sql"))).digest("hex");
    expect(await database.rows()).toEqual(committed.map((name) => ({ migration_name: name, checksum: checksum(name) })));
    expect(await applyMigrations(database.config)).toEqual([]);
  } finally {
    await database.drop();
  }
}, 60_000);

if (dialect === "postgres") {
  it("honours ?schema=: the tables go into that schema, created if needed", async () => {
    const database = await emptyDatabase();
    try {
      if (database.config.kind !== "postgres") throw new Error("unreachable");
      await applyMigrations({ ...database.config, schema: "crossauth_app" });
      const client = new pg.Client({ connectionString: database.config.url });
      await client.connect();
      const tables = await client.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'User'`);
      await client.end();
      expect(tables.rows).toEqual([{ table_schema: "crossauth_app" }]);
    } finally {
      await database.drop();
    }
  }, 60_000);
}

it("upgrades a database made by the first migration: no user id is given out again, addresses become findable", async () => {
  const database = await emptyDatabase();
  try {
    const olderSet = path.join(tempDir("migrations"), "migrations");
    fs.mkdirSync(olderSet);
    fs.cpSync(path.join(migrationsDir, committed[0]), path.join(olderSet, committed[0]), { recursive: true });
    expect(await applyMigrations(database.config, { migrationsDir: olderSet })).toEqual([committed[0]]);

    const run = await connect(database.config);
    try {
      const insert = (uid: string, email: string | null) =>
        run(`INSERT INTO "User" (uid, "uidKey", name, email, role, "passwordHash", "tokenVersion", "createdAt", "updatedAt") VALUES ('${uid}', '${uid}', 'Someone', ${email ? `'${email}'` : "NULL"}, 'User', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`);
      await insert("first", "Ada@Example.COM");
      await insert("second", null);
      await insert("newest", null);
      await run(`DELETE FROM "User" WHERE uid = 'newest'`);

      expect(await applyMigrations(database.config)).toEqual(committed.slice(1));
      await insert("after", null);
      const rows = (await run(`SELECT id, uid, "emailKey" FROM "User" ORDER BY id`)) as Array<{ id: number; uid: string; emailKey: string | null }>;
      expect(rows.map((r) => [r.uid, r.emailKey])).toEqual([["first", "ada@example.com"], ["second", null], ["after", null]]);
      expect(rows[2].id).toBe(4); // not 3: that was the deleted user's
    } finally {
      await run.close();
    }
  } finally {
    await database.drop();
  }
}, 60_000);

/** A plain connection to a test database: run(sql) resolves its rows; close() ends it. */
async function connect(config: DatabaseConfig) {
  if (config.kind === "sqlite") {
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(config.file);
    return Object.assign(async (sql: string) => (/^\s*select/i.test(sql) ? db.prepare(sql).all() : (db.exec(sql), [])), { close: async () => db.close() });
  }
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  return Object.assign(async (sql: string) => (await client.query(sql)).rows, { close: () => client.end() });
}
