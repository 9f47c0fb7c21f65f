// Runs in every test file: whatever the file's tests created (temp files, PostgreSQL databases) goes when it ends.
import { dropDatabases, removeTempDirs } from "./helpers";

afterAll(async () => {
  removeTempDirs();
  await dropDatabases();
});
