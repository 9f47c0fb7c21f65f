// Reads a Set-Cookie header the way a browser does, enough to check each attribute of the session cookie.

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case; a flag (HttpOnly, Secure, Partitioned) has the value "". */
  attributes: Map<string, string>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair, ...rest] = header.split(";");
  const equals = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [key, ...value] = part.split("=");
    if (key.trim()) attributes.set(key.trim().toLowerCase(), value.join("=").trim());
  }
  return {
    name: (equals === -1 ? "" : pair.slice(0, equals)).trim(),
    value: (equals === -1 ? pair : pair.slice(equals + 1)).trim(),
    attributes,
  };
}

/** The attributes as a browser would list them, for a check's detail; the value (a token) is never shown. */
export function describeAttributes(cookie: SetCookie): string {
  const names: Record<string, string> = { path: "Path", domain: "Domain", "max-age": "Max-Age", expires: "Expires", samesite: "SameSite", httponly: "HttpOnly", secure: "Secure", partitioned: "Partitioned" };
  return [...cookie.attributes].map(([key, value]) => (value === "" ? names[key] ?? key : `${names[key] ?? key}=${value}`)).join("; ");
}
