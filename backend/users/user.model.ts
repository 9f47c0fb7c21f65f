// The user as the API shows it (docs/api.md › Routes): never the password hash or the token version.
export const ROLES = ["User", "Admin"] as const;
export type Role = (typeof ROLES)[number];

export interface PublicUser {
  id: number;
  uid: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export const uidKeyOf = (uid: string) => uid.toLowerCase();
