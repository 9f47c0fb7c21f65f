// The user as the API shows it (docs/api.md › Routes): never the password hash or the token version.
export const ROLES = ["User", "Admin"] as const;
export type Role = (typeof ROLES)[number];

export interface PublicUser {
  id: number;
  uid: string;
  name: string;
  email: string | null;
  role: Role;
  /** The current address was proven by a link sent to it (docs/recovery.md). */
  emailVerified: boolean;
  /** Logins need a second factor (docs/two-factor.md). */
  mfaEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export const uidKeyOf = (uid: string) => uid.toLowerCase();
