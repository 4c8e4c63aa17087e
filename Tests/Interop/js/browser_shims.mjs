// The two browser APIs the browser build of the official Socket.IO client needs to
// long-poll in Node, which has neither (it has `Blob` and, with --experimental-websocket,
// `WebSocket`): XMLHttpRequest for the requests, FileReader to base64-encode binary
// packets into a polling payload. Each implements only what engine.io-client uses.

import http from "node:http";

// One keep-alive agent for the process, like a browser's connection pool (the runner
// exits explicitly, so idle pooled sockets never keep it alive).
const agent = new http.Agent({ keepAlive: true });

/// XMLHttpRequest over node:http: open, setRequestHeader, send (a string body or none),
/// abort, getResponseHeader, readyState 3 and 4 with onreadystatechange, status,
/// responseText, withCredentials, timeout and responseType. A network error ends as in a
/// browser: readyState 4 with status 0.
export class XMLHttpRequest {
  static UNSENT = 0;
  static OPENED = 1;
  static HEADERS_RECEIVED = 2;
  static LOADING = 3;
  static DONE = 4;

  readyState = 0;
  status = 0;
  responseText = "";
  // The client reads these to decide what the transport supports (XHR2, CORS).
  responseType = "";
  withCredentials = false;
  timeout = 0;
  onreadystatechange = null;

  #method = "GET";
  #url = null;
  #headers = {};
  #responseHeaders = {};
  #request = null;
  #aborted = false;

  open(method, url) {
    this.#method = method;
    this.#url = new URL(url);
    this.#setState(1);
  }

  setRequestHeader(name, value) {
    this.#headers[name] = value;
  }

  getResponseHeader(name) {
    const value = this.#responseHeaders[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  send(body) {
    const payload = body == null ? null : Buffer.from(body);
    const headers = { ...this.#headers };
    if (payload) headers["Content-Length"] = payload.length;
    const request = http.request(this.#url, { method: this.#method, headers, agent, timeout: this.timeout || undefined });
    this.#request = request;
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", () => this.#finish(0, ""));
    request.on("response", (response) => {
      this.#responseHeaders = response.headers;
      this.status = response.statusCode;
      this.#setState(2);
      this.#setState(3);
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => this.#finish(response.statusCode, Buffer.concat(chunks).toString("utf8")));
      response.on("error", () => this.#finish(0, ""));
    });
    request.end(payload ?? undefined);
  }

  abort() {
    this.#aborted = true;
    this.#request?.destroy();
  }

  #finish(status, text) {
    if (this.#aborted || this.readyState === 4) return;
    this.status = status;
    this.responseText = text;
    this.#setState(4);
  }

  #setState(state) {
    this.readyState = state;
    if (!this.#aborted) this.onreadystatechange?.();
  }
}

/// FileReader with only readAsDataURL and onload, as engine.io-parser uses it.
export class FileReader {
  result = null;
  onload = null;

  readAsDataURL(blob) {
    blob.arrayBuffer().then((buffer) => {
      const type = blob.type || "application/octet-stream";
      this.result = `data:${type};base64,${Buffer.from(buffer).toString("base64")}`;
      this.onload?.();
    });
  }
}

/// Makes both shims globals, where the bundle looks for them.
export function installBrowserShims() {
  globalThis.XMLHttpRequest = XMLHttpRequest;
  globalThis.FileReader = FileReader;
}
