// jest: API tests against app.callback(), one real SQLite file per test file (copied from a migrated template).
import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/backend"],
  testMatch: ["**/__tests__/**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, tsconfig: "tsconfig.json" }] },
  globalSetup: "<rootDir>/backend/__tests__/global-setup.ts",
  testTimeout: 30_000,
  maxWorkers: 2,
};

export default config;
