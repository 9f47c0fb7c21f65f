// The static file server for frontend/ (used by `npm start` and the browser tests). It knows nothing
// about auth: it serves files, and can point the pages at an API by rewriting their api-uri meta tag.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export interface FrontendServerOptions {
  /** Directory to serve (frontend/). */
  root: string;
  /** When set, written into every served page's `<meta name="api-uri">` so the pages call this API. */
  apiUrl?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

// The pages have no inline scripts or styles, so 'self' is enough for both. connect-src allows any
// http(s) origin because the API normally lives on another origin (that is the point of this project).
// Every page repeats this policy in a <meta> tag (minus frame-ancestors, which a meta tag cannot carry), so
// a copy hosted elsewhere, e.g. on GitHub Pages, is protected too; a test keeps the two equal.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http: https:",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const API_URI_META = /<meta\s+name="api-uri"\s+content="[^"]*"\s*\/?>/i;

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The request handler alone, so an https server (the browser tests' TLS topology) can use it too. */
export function createFrontendHandler(opts: FrontendServerOptions): http.RequestListener {
  const root = fs.realpathSync(path.resolve(opts.root));
  const apiMeta =
    opts.apiUrl === undefined ? undefined : `<meta name="api-uri" content="${escapeAttribute(opts.apiUrl)}">`;

  function send(res: http.ServerResponse, status: number, type: string, body: Buffer | string, head: boolean) {
    const buffer = typeof body === "string" ? Buffer.from(body) : body;
    res.writeHead(status, {
      "Content-Type": type,
      "Content-Length": buffer.length,
      "Content-Security-Policy": CONTENT_SECURITY_POLICY,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      // Pages change while developing; revalidate rather than serve stale modules.
      "Cache-Control": "no-cache",
    });
    res.end(head ? undefined : buffer);
  }

  /** Maps a URL path to a file inside root, or undefined. Refuses anything that resolves outside root. */
  function resolveFile(urlPath: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
    const candidates = decoded.endsWith("/") ? [decoded + "index.html"] : [decoded, decoded + ".html", decoded + "/index.html"];
    for (const candidate of candidates) {
      const full = path.resolve(root, "." + path.posix.normalize("/" + candidate));
      try {
        // realpath also catches a symlink that points outside root.
        const real = fs.realpathSync(full);
        if (real !== root && !real.startsWith(root + path.sep)) return undefined;
        if (fs.statSync(real).isFile()) return real;
      } catch {
        // Not there: try the next candidate.
      }
    }
    return undefined;
  }

  return (req, res) => {
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      res.setHeader("Allow", "GET, HEAD");
      send(res, 405, "text/plain; charset=utf-8", "Method not allowed\n", false);
      return;
    }
    const urlPath = (req.url ?? "/").split("?")[0].split("#")[0];
    const file = resolveFile(urlPath);
    if (!file) {
      send(res, 404, "text/plain; charset=utf-8", "Not found\n", head);
      return;
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    fs.readFile(file, (err, data) => {
      if (err) {
        send(res, 404, "text/plain; charset=utf-8", "Not found\n", head);
        return;
      }
      if (apiMeta && type.startsWith("text/html")) {
        send(res, 200, type, data.toString("utf8").replace(API_URI_META, apiMeta), head);
        return;
      }
      send(res, 200, type, data, head);
    });
  };
}

/** An http server for the frontend, not yet listening. */
export function createFrontendServer(opts: FrontendServerOptions): http.Server {
  return http.createServer(createFrontendHandler(opts));
}
