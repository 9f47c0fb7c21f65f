// Request schema of the login route (docs/api.md › Routes). Loose limits: the login answers the same
// 401 for any wrong uid or password, so only types and absurd lengths are refused here.
import { z } from "zod";

export const loginBody = z.strictObject({
  uid: z.string({ message: "must be a string" }).max(100, { message: "is too long" }),
  password: z.string({ message: "must be a string" }).max(1024, { message: "is too long" }),
});
