// Request schemas of the user routes (docs/api.md › Routes). Strict: unknown fields are an error.
import { z } from "zod";
import { MAX_PASSWORD_BYTES } from "../auth/passwords";
import { ROLES } from "./user.model";

export const uid = z
  .string({ message: "must be a string" })
  .min(2, { message: "must be 2 to 39 characters" })
  .max(39, { message: "must be 2 to 39 characters" })
  .regex(/^[A-Za-z0-9_.-]+$/, { message: "may contain only letters, digits, '_', '.' and '-'" });

const name = z
  .string({ message: "must be a string" })
  .trim()
  .min(2, { message: "must be 2 to 100 characters" })
  .max(100, { message: "must be 2 to 100 characters" });

// "" clears the field, so a form's empty email input means "no email".
const email = z
  .union([z.literal("").transform(() => null), z.null(), z.email({ message: "must be a valid email address" }).max(254)])
  .optional();

export const password = z
  .string({ message: "must be a string" })
  .min(8, { message: "must be at least 8 characters" })
  // bcrypt silently ignores bytes past 72: refuse instead of truncating.
  .refine((p) => Buffer.byteLength(p, "utf8") <= MAX_PASSWORD_BYTES, { message: `must be at most ${MAX_PASSWORD_BYTES} bytes` });

const role = z.enum(ROLES, { message: "must be User or Admin" });

export const signupBody = z.strictObject({ uid, name, password, email });

export const selfUpdateBody = z
  .strictObject({ uid, name, email, password, currentPassword: z.string().max(1024), role })
  .partial()
  .refine((b) => b.password === undefined || b.currentPassword !== undefined, {
    message: "is required to change the password",
    path: ["currentPassword"],
  });

export const adminUpdateBody = z.strictObject({ name, email, role, password }).partial();

export const deleteBody = z.strictObject({ uid: z.string({ message: "must be a string" }).min(1) });
