// Request schemas for the user and login routes (SPEC §5.2). Strict: unknown fields are an error.
import { z } from "zod";
import { AppError } from "../errors";
import { MAX_PASSWORD_BYTES } from "../auth/passwords";

export const ROLES = ["User", "Admin"] as const;
export type Role = (typeof ROLES)[number];

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

export const loginBody = z.strictObject({
  uid: z.string({ message: "must be a string" }).max(100, { message: "is too long" }),
  password: z.string({ message: "must be a string" }).max(1024, { message: "is too long" }),
});

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

/** Validates at the edge: a typed value, or 400 VALIDATION_FAILED listing each field's problem. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.code === "unrecognized_keys" ? issue.keys.join(", ") : issue.path.join(".") || "body",
    message: issue.code === "unrecognized_keys" ? "unknown field" : issue.message,
  }));
  const summary = fields.map((f) => `${f.field} ${f.message}`).join("; ");
  throw new AppError("VALIDATION_FAILED", `Some fields are invalid: ${summary}`, fields);
}
