// The HTTP side: same-origin fetch with the session cookie, the CSRF and Idempotency-Key
// headers on unsafe methods, JSON error bodies turned into ApiError, and 401 handed to
// whoever shows login.

const BASE = "/api/v1";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
let csrfToken = null;
let unauthorizedHandler = () => {};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

/** The CSRF token from the readable `tandem_csrf` cookie: a reload recovers it from there. */
export function csrfFromCookie() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "tandem_csrf") return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** `handler(error)` runs when the server says the session is gone (401). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/**
 * A fresh idempotency key. Make one per logical write and pass it again when retrying that
 * write (after a network error, or a 409 `idempotency_key_in_progress`): the server then
 * answers the first attempt's result instead of writing twice.
 */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID exists only in secure contexts; plain http on a LAN address is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `options.idempotencyKey`: the key of the write this request carries out; without it each
 * call is its own write with a fresh key.
 */
export async function request(method, path, body, options = {}) {
  const headers = { accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") {
    const token = csrfToken || csrfFromCookie();
    if (token) headers["X-CSRF-Token"] = token;
  }
  if (UNSAFE.has(method)) {
    headers["Idempotency-Key"] = options.idempotencyKey || newIdempotencyKey();
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, "unreachable", "Tandem cannot be reached; check the connection.");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText || "request failed",
      error.details,
    );
    if (response.status === 401 && !path.startsWith("/auth/")) unauthorizedHandler(failure);
    throw failure;
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body, options) => request("POST", path, body ?? {}, options);
export const patch = (path, body, options) => request("PATCH", path, body, options);
export const del = (path, options) => request("DELETE", path, undefined, options);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Upload a file as the raw request body (its type in Content-Type), with the same headers and
 * error handling as `request`. XMLHttpRequest rather than fetch, for upload progress:
 * `options.onProgress(fraction)` as the bytes go out; `options.signal` (an AbortSignal)
 * cancels it, and the promise then rejects with the code `aborted`; `options.method` is POST
 * unless given (PUT to replace a thing, such as one's picture).
 */
export function upload(path, file, options = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(options.method || "POST", BASE + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("accept", "application/json");
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
    const token = csrfToken || csrfFromCookie();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.setRequestHeader("Idempotency-Key", options.idempotencyKey || newIdempotencyKey());
    const { signal, onProgress } = options;
    const abort = () => xhr.abort();
    if (signal) {
      if (signal.aborted) {
        reject(new ApiError(0, "aborted", "the upload was cancelled"));
        return;
      }
      signal.addEventListener("abort", abort, { once: true });
    }
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      });
    }
    const done = () => signal && signal.removeEventListener("abort", abort);
    xhr.addEventListener("abort", () => {
      done();
      reject(new ApiError(0, "aborted", "the upload was cancelled"));
    });
    xhr.addEventListener("error", () => {
      done();
      reject(new ApiError(0, "unreachable", "Tandem cannot be reached; check the connection."));
    });
    xhr.addEventListener("load", () => {
      done();
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data);
        return;
      }
      const error = (data && data.error) || {};
      const failure = new ApiError(
        xhr.status,
        error.code || `http_${xhr.status}`,
        error.message || xhr.statusText || "upload failed",
        error.details,
      );
      if (xhr.status === 401) unauthorizedHandler(failure);
      reject(failure);
    });
    xhr.send(file);
  });
}

/**
 * POST `body` to `path` and read the `text/event-stream` answer: `onEvent(event, data)` for
 * each event as it arrives (`data` parsed as JSON). Resolves when the server ends the answer.
 * A refusal before the stream starts rejects with its ApiError, as `request` does;
 * `options.signal` (an AbortSignal) stops reading and closes the request, and the promise
 * then rejects with the code `aborted`.
 */
export async function stream(path, body, onEvent, options = {}) {
  const headers = {
    accept: "text/event-stream",
    "content-type": "application/json",
    "Idempotency-Key": newIdempotencyKey(),
  };
  const token = csrfToken || csrfFromCookie();
  if (token) headers["X-CSRF-Token"] = token;
  const { signal } = options;
  const aborted = () => new ApiError(0, "aborted", "stopped");
  let response;
  try {
    response = await fetch(BASE + path, { method: "POST", headers, credentials: "same-origin", body: JSON.stringify(body ?? {}), signal });
  } catch {
    if (signal && signal.aborted) throw aborted();
    throw new ApiError(0, "unreachable", "Tandem cannot be reached; check the connection.");
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    const error = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText || "request failed",
      error.details,
    );
    if (response.status === 401) unauthorizedHandler(failure);
    throw failure;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const dispatch = (block) => {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let parsed;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      parsed = data.join("\n");
    }
    onEvent(event, parsed);
  };
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      if (signal && signal.aborted) throw aborted();
      throw new ApiError(0, "unreachable", "The connection to Tandem was lost before the answer ended.");
    }
    if (chunk.done) break;
    buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      dispatch(block);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim()) dispatch(buffer);
}
