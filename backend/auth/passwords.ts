// Password work off the event loop: a piscina pool of worker threads, one per core, running bcryptjs and
// the strength rule of password-policy.js.
import os from "node:os";
import path from "node:path";
import { Piscina } from "piscina";
import { MAX_BYTES } from "./password-policy";

export interface Hasher {
  hash(password: string): Promise<string>;
  compare(password: string, hash: string): Promise<boolean>;
  /** Compare against a throwaway hash of the same cost: unknown uids cost as much as wrong passwords. */
  compareDummy(password: string): Promise<false>;
  /** The password rule's guessability part: a plain-words reason it is refused, or null. */
  checkStrength(password: string, uids: string[]): Promise<string | null>;
  /** True when a stored hash was made at another cost than the configured one (rehash it at the next login). */
  needsRehash(hash: string): boolean;
  destroy(): Promise<void>;
}

export const MAX_PASSWORD_BYTES: number = MAX_BYTES;

/** The cost a bcrypt hash was made with (`$2b$10$…` → 10), or NaN for anything else. */
export function costOf(hash: string): number {
  const match = /^\$2[abxy]?\$(\d\d)\$/.exec(hash);
  return match ? Number(match[1]) : Number.NaN;
}

export function createHasher(options: { rounds: number; threads?: number }): Hasher {
  const threads = options.threads ?? Math.max(1, os.availableParallelism());
  const pool = new Piscina({
    filename: path.join(__dirname, "password.worker.js"),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    // Lowest CPU priority for the workers (nice 19; per thread on Linux). bcrypt still gets every idle cycle
    // of every core, but the event loop takes a core back as soon as a request arrives, so a burst of logins
    // cannot make other requests wait behind hashes (docs/api.md › Abuse resistance; README › Performance). Done by piscina's optional dependency
    // @napi-rs/nice; without it the workers keep normal priority (`npm run bench` reports which).
    niceIncrement: 19,
  });
  const hash = (password: string) => pool.run({ op: "hash", password, rounds: options.rounds }) as Promise<string>;
  const runCompare = (password: string, hashed: string) => pool.run({ op: "compare", password, hash: hashed }) as Promise<boolean>;
  const dummyHash = hash("crossauth-dummy-password");
  dummyHash.catch(() => undefined); // surfaced by compareDummy, not as an unhandled rejection
  const compareDummy = async (password: string): Promise<false> => {
    await runCompare(password, await dummyHash);
    return false;
  };
  return {
    hash,
    async compare(password, hashed) {
      // bcrypt compares only the first 72 bytes, so a longer password can never be the right one.
      if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) return compareDummy(password);
      return runCompare(password, hashed);
    },
    compareDummy,
    checkStrength: (password, uids) => pool.run({ op: "strength", password, uids }) as Promise<string | null>,
    needsRehash: (hashed) => costOf(hashed) !== options.rounds,
    async destroy() {
      await pool.destroy();
    },
  };
}
