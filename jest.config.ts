// jest: API tests against app.callback(), one real database per test file (copied from a migrated template).
import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/test/api"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, tsconfig: "tsconfig.json" }] },
  globalSetup: "<rootDir>/test/api/global-setup.ts",
  globalTeardown: "<rootDir>/test/api/global-teardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/api/setup.ts"],
  testTimeout: 30_000,
  maxWorkers: 2,
};

export default config;
