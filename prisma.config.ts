// Prisma CLI configuration: the JS query engine over better-sqlite3, so nothing native is downloaded.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

const root = __dirname;
const url = process.env.DATABASE_URL ?? "file:./data/dev.db";
// Relative SQLite paths are relative to the project root, exactly as backend/config.ts resolves them.
const file = url.replace(/^file:/, "");
const absolute = path.isAbsolute(file) ? file : path.join(root, file);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join(root, "prisma", "schema.prisma"),
  async adapter() {
    await import("node:fs").then((fs) => fs.mkdirSync(path.dirname(absolute), { recursive: true }));
    return new PrismaBetterSQLite3({ url: `file:${absolute}` });
  },
});
