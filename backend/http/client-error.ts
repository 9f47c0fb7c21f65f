// Requests Node's HTTP parser refuses before Koa sees them (an unknown method, oversized headers, a request
// that never finishes arriving): answered with the same JSON error body and security headers as every other
// error, instead of Node's bare status line.
import http from "node:http";
import type { Duplex } from "node:stream";
import { AppError, errorBody, type ErrorCode } from "../errors";
import { SECURITY_HEADERS } from "../middleware/security-headers";

function codeFor(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === "HPE_HEADER_OVERFLOW") return "HEADERS_TOO_LARGE";
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT") return "REQUEST_TIMEOUT";
  return "MALFORMED_REQUEST";
}

/** A `clientError` listener for an http.Server. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection, or one whose response is already under way (as Node's own handler checks).
  const inFlight = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?._headerSent) {
    socket.destroy();
    return;
  }
  const error = new AppError(codeFor(err));
  const body = JSON.stringify(errorBody(error.status, error.code, error.message));
  const headers = {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    Connection: "close",
    ...SECURITY_HEADERS,
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  socket.end(`HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\n${head}\r\n${body}`);
}
