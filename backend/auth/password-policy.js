// The password rule, in one place (docs/api.md › Routes): 8 characters to 72 UTF-8 bytes, not the uid or
// containing it, and not guessable by zxcvbn with the common-password dictionaries (leaked-password lists,
// used offline). Plain JavaScript so the bcrypt workers (password.worker.js) can run it: a strength check
// costs up to ~60 ms of CPU for a long password, which must not stall the event loop.
"use strict";

const MIN_LENGTH = 8;
/** bcrypt only reads the first 72 bytes; longer passwords are refused rather than silently truncated. */
const MAX_BYTES = 72;
/** zxcvbn's score 0–4: below 2 is under ~10^6 guesses (common passwords, repeats, keyboard walks). */
const MIN_SCORE = 2;

let zxcvbn = null;
/** Built on first use (~70 ms, ~25 MB): only processes that set passwords pay for the dictionaries. */
function strengthChecker() {
  if (zxcvbn === null) {
    const { ZxcvbnFactory } = require("@zxcvbn-ts/core");
    const common = require("@zxcvbn-ts/language-common");
    zxcvbn = new ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs });
  }
  return zxcvbn;
}

// zxcvbn's warning keys in plain words (the field name comes first: "password is a heavily used password").
const REASONS = {
  topTen: "is one of the most used passwords",
  topHundred: "is a very frequently used password",
  common: "is a commonly used password",
  similarToCommon: "is too similar to a commonly used password",
  simpleRepeat: 'repeats characters (like "aaa"), which is easy to guess',
  extendedRepeat: 'repeats a pattern (like "abcabc"), which is easy to guess',
  sequences: 'is a common sequence (like "abcd" or "1234"), which is easy to guess',
  straightRow: "is a row of keys on the keyboard, which is easy to guess",
  keyPattern: "is a keyboard pattern, which is easy to guess",
  recentYears: "is built on a recent year, which is easy to guess",
  dates: "is built on a date, which is easy to guess",
  wordByItself: "is a single word, which is easy to guess",
  namesByThemselves: "is a single name, which is easy to guess",
  commonNames: "is built on common names, which is easy to guess",
};
const TOO_GUESSABLE = "is too easy to guess: use a longer passphrase of several unrelated words";

/** Length and size: cheap, checked while the request body is validated. */
function shapeProblem(password) {
  if (typeof password !== "string") return "must be a string";
  if (password.length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  if (Buffer.byteLength(password, "utf8") > MAX_BYTES) return `must be at most ${MAX_BYTES} bytes`;
  return null;
}

/** Guessability: the uids the password must not contain, then zxcvbn. Null when the password is acceptable. */
function strengthProblem(password, uids = []) {
  const lower = password.toLowerCase();
  for (const uid of uids) {
    if (uid && uid.length >= 2 && lower.includes(uid.toLowerCase())) return "must not contain your GitHub ID";
  }
  const result = strengthChecker().check(password, uids.filter(Boolean));
  if (result.score >= MIN_SCORE) return null;
  return REASONS[result.feedback.warning] ?? TOO_GUESSABLE;
}

/** The whole rule: a plain-words reason the password is refused, or null. */
function passwordProblem(password, uids = []) {
  return shapeProblem(password) ?? strengthProblem(password, uids);
}

module.exports = { MIN_LENGTH, MAX_BYTES, MIN_SCORE, shapeProblem, strengthProblem, passwordProblem };
