// Runs in every test file: whatever the file's tests created in the temp directory goes when it ends.
import { removeTempDirs } from "./helpers";

afterAll(removeTempDirs);
