// Runs one scenario of the official Socket.IO JavaScript client (the socket.io-client
// browser bundle, .cache/socket.io.min.js) against a server, in Node.
//
//   node --experimental-websocket run_scenario.mjs SCENARIO URL [OPTIONS_JSON]
//
// OPTIONS_JSON (all optional):
//   transports  "default" (polling, then upgrade to websocket: the client's default),
//               "websocket" or "polling"
//   bundle      path of the client bundle (default: <repo>/.cache/socket.io.min.js)
//   timeoutMs   the whole scenario's limit (default 30000)
//   anything else is passed to the scenario as t.options
//
// The last line on stdout is `RESULT {"ok":true,"result":…}` (what the scenario returned,
// binary values described by t.describe) or `RESULT {"ok":false,"error":"…"}`; the exit
// status is 0 or 1 accordingly. Tests/Interop/test_js_client.py checks the result.

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { installBrowserShims } from "./browser_shims.mjs";
import * as scenarios from "./scenarios.mjs";
import * as recoveryScenarios from "./scenarios_recovery.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_BUNDLE = path.resolve(here, "../../../.cache/socket.io.min.js");
const TRANSPORTS = { default: undefined, websocket: ["websocket"], polling: ["polling"] };

/// What a scenario gets: the client, the server URL and small helpers to wait for events.
class ScenarioContext {
  constructor(io, url, options) {
    this.io = io;
    this.url = url.replace(/\/$/, "");
    this.mode = options.transports ?? "default";
    if (!(this.mode in TRANSPORTS)) throw new Error(`unknown transports mode ${this.mode}`);
    this.options = options;
    this.managers = [];
  }

  /// Client options every socket gets: the transports of this run and no automatic
  /// reconnection (a scenario that wants it says so). Waits are ceilings for a loaded
  /// machine, never measurements.
  clientOptions(extra = {}) {
    const transports = TRANSPORTS[this.mode];
    return { reconnection: false, timeout: 10000, ...(transports ? { transports } : {}), ...extra };
  }

  /// A socket on its own connection (`forceNew`), already connecting.
  socket(namespace = "/", extra = {}) {
    const socket = this.io(this.url + namespace, this.clientOptions({ forceNew: true, ...extra }));
    this.managers.push(socket.io);
    return socket;
  }

  /// A Manager: several namespaces multiplexed on one connection (`manager.socket(nsp)`).
  manager(extra = {}) {
    const manager = new this.io.Manager(this.url, this.clientOptions(extra));
    this.managers.push(manager);
    return manager;
  }

  /// A connected socket (see `socket`).
  async connect(namespace = "/", extra = {}) {
    const socket = this.socket(namespace, extra);
    await this.connected(socket);
    return socket;
  }

  /// Resolves once `socket` is connected; rejects on connect_error.
  async connected(socket, ms = 10000) {
    if (socket.connected) return socket;
    const { event, args } = await this.first(socket, ["connect", "connect_error"], ms);
    if (event === "connect_error") {
      throw new Error(`connect_error: ${args[0].message} ${JSON.stringify(args[0].data ?? null)}`);
    }
    return socket;
  }

  /// The arguments of the next `event` on `emitter` (a socket, a Manager or an engine).
  async next(emitter, event, ms = 10000) {
    return (await this.first(emitter, [event], ms)).args;
  }

  /// The first of `events` to happen on `emitter`, as {event, args}; rejects after `ms`.
  first(emitter, events, ms = 10000) {
    return new Promise((resolve, reject) => {
      const listeners = events.map((event) => [event, (...args) => settle(() => resolve({ event, args }))]);
      const timer = setTimeout(() => settle(() => reject(new Error(`none of ${events.join(", ")} within ${ms} ms`))), ms);
      function settle(outcome) {
        clearTimeout(timer);
        for (const [event, listener] of listeners) emitter.off(event, listener);
        outcome();
      }
      for (const [event, listener] of listeners) emitter.on(event, listener);
    });
  }

  /// Every `event` on `emitter` from now on, as a list of argument lists.
  collect(emitter, event) {
    const seen = [];
    emitter.on(event, (...args) => seen.push(args));
    return seen;
  }

  /// Polls `predicate` (which may be async) until it is truthy.
  async until(predicate, what, ms = 10000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await this.sleep(20);
    }
  }

  sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /// `value` as JSON can carry it: binary becomes {binary: <its type>, length, hex} (hex only
  /// up to 64 bytes, sha256 beyond), Errors become {error: message, data}.
  describe(value) {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      const type = Buffer.isBuffer(value) ? "Buffer" : value.constructor.name;
      const described = { binary: type, length: bytes.length };
      if (bytes.length <= 64) described.hex = Buffer.from(bytes).toString("hex");
      else described.sha256 = createHash("sha256").update(bytes).digest("hex");
      return described;
    }
    if (value instanceof Error) return { error: value.message, data: this.describe(value.data ?? null) };
    if (Array.isArray(value)) return value.map((item) => this.describe(item));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.describe(item)]));
    }
    return value === undefined ? null : value;
  }

  close() {
    for (const manager of this.managers) {
      for (const socket of Object.values(manager.nsps)) socket.disconnect();
      manager.disconnect();
    }
  }
}

function report(outcome) {
  process.stdout.write(`RESULT ${JSON.stringify(outcome)}\n`);
}

async function main() {
  const [name, url, optionsJSON] = process.argv.slice(2);
  const options = optionsJSON ? JSON.parse(optionsJSON) : {};
  if (!name || !url) throw new Error("usage: run_scenario.mjs SCENARIO URL [OPTIONS_JSON]");
  const scenario = scenarios[name] ?? recoveryScenarios[name];
  if (typeof scenario !== "function") throw new Error(`no scenario named ${name}`);
  if (typeof WebSocket === "undefined") {
    throw new Error("this Node has no global WebSocket: run it with --experimental-websocket (Node >= 20.10)");
  }
  // The browser bundle long-polls with XMLHttpRequest and FileReader, which Node lacks.
  installBrowserShims();
  const io = createRequire(import.meta.url)(options.bundle ?? DEFAULT_BUNDLE);
  const t = new ScenarioContext(io, url, options);
  const limit = options.timeoutMs ?? 30000;
  let timer;
  try {
    const result = await Promise.race([
      scenario(t),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scenario ${name} did not finish within ${limit} ms`)), limit);
      }),
    ]);
    report({ ok: true, result: t.describe(result) });
  } finally {
    clearTimeout(timer);
    t.close();
  }
}

// The short grace lets the sockets' DISCONNECT packets leave before the process ends.
main().then(
  () => setTimeout(() => process.exit(0), 50),
  (error) => {
    report({ ok: false, error: error?.stack ?? String(error) });
    setTimeout(() => process.exit(1), 50);
  },
);
