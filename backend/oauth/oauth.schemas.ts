// Request schemas of the GitHub routes (docs/github.md › Routes). Strict: unknown fields are an error.
import { z } from "zod";

const token = z.string({ message: "must be a string" }).min(1, { message: "is required" }).max(128, { message: "is too long" });

/** The page's exchange: the code from the callback's fragment and the nonce it kept in sessionStorage. */
export const exchangeBody = z.strictObject({ code: token, nonce: z.string({ message: "must be a string" }).min(1, { message: "is required" }).max(256, { message: "is too long" }) });

/**
 * Starting a link: the page to come back to, and the current password (required for an account that has one:
 * linking adds a way into the account, so a stolen session alone must not be enough).
 */
export const linkBody = z.strictObject({
  returnTo: z.string({ message: "must be a string" }).max(2000, { message: "is too long" }),
  currentPassword: z.string({ message: "must be a string" }).max(1024, { message: "is too long" }).optional(),
});
