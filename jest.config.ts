// jest: API tests against app.callback(), one real database per test file (copied from a migrated template).
import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/test/api"],
  testMatch: ["**/*.test.ts"],
  // schema.test.ts and end-of-turn.test.ts need no database and sqlite-commits.test.ts SQLite files only: they run once, in the SQLite pass.
  testPathIgnorePatterns: ["/node_modules/", ...(process.env.CROSSAUTH_TEST_DATABASE === "postgres" ? ["/test/api/schema\\.test\\.ts$", "/test/api/sqlite-commits\\.test\\.ts$", "/test/api/end-of-turn\\.test\\.ts$"] : [])],
  // arctic and @oslojs/* ship only ES modules: ts-jest transforms them (tsconfig allows JS); everything else
  // in node_modules is loaded as it is.
  transform: { "^.+\\.[jt]s$": ["ts-jest", { isolatedModules: true, tsconfig: "tsconfig.json" }] },
  transformIgnorePatterns: ["/node_modules/(?!(arctic|@oslojs)/)"],
  globalSetup: "<rootDir>/test/api/global-setup.ts",
  globalTeardown: "<rootDir>/test/api/global-teardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/api/setup.ts"],
  testTimeout: 30_000,
  maxWorkers: 2,
};

export default config;
