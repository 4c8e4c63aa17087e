// Scenarios of the official JavaScript client against socketio-testserver (its events:
// Tests/Interop/README.md). Each takes the context `t` of run_scenario.mjs and returns what
// it saw; Tests/Interop/test_js_client.py checks it. A scenario only throws when it cannot
// go on (a missing event times out).

/// Connects (auth echoed in `welcome`), follows the transport through the upgrade when the
/// client's default transports are in use, and echoes once on the final transport.
export async function connect(t) {
  const socket = t.socket("/", { auth: { token: "js" } });
  const opened = t.next(socket.io, "open");
  const upgrades = t.collect(socket.io.engine, "upgrade");
  const welcome = t.next(socket, "welcome");
  await opened;
  const firstTransport = socket.io.engine.transport.name;
  await t.connected(socket);
  const [welcomePayload] = await welcome;
  if (t.mode === "default" && socket.io.engine.transport.name !== "websocket") {
    await t.next(socket.io.engine, "upgrade", 10000);
  }
  const echo = t.next(socket, "echo");
  socket.emit("echo", "after connect", { n: 1 });
  return {
    firstTransport,
    upgrades: upgrades.map(([transport]) => transport.name),
    finalTransport: socket.io.engine.transport.name,
    id: socket.id,
    engineId: socket.io.engine.id,
    recovered: socket.recovered,
    welcome: welcomePayload,
    echo: await echo,
  };
}

/// The client's ack forms against handlers that acknowledge.
export async function acks(t) {
  const socket = await t.connect();
  const callback = await new Promise((resolve) => socket.emit("echo_ack", 1, "two", { three: [3] }, (...args) => resolve(args)));
  const timeoutCallback = await new Promise((resolve) => {
    socket.timeout(10000).emit("echo_ack", "x", null, (err, ...args) => resolve({ err, args }));
  });
  const withAck = await socket.timeout(10000).emitWithAck("echo_ack", { nested: true });
  const withAckNoTimeout = await socket.emitWithAck("echo_ack", "plain");
  const counts = [];
  for (let i = 0; i < 3; i++) counts.push(await socket.emitWithAck("count"));
  // Many acks in flight at once: each answer must reach its own callback.
  const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => socket.timeout(10000).emitWithAck("echo_ack", i)));
  const joined = await new Promise((resolve) => socket.emit("join", "js-room", (...args) => resolve(args)));
  return { id: socket.id, callback, timeoutCallback, withAck, withAckNoTimeout, counts, concurrent, joined };
}

/// The server asks, the client answers (with a binary part): from the socket's own handler
/// (`ask_client`) and from the server by socket id (`server_ask`).
export async function serverAck(t) {
  const socket = await t.connect();
  const questions = t.collect(socket, "question");
  socket.on("question", (question, ack) => ack({ got: question }, "second", Uint8Array.from([1, 2, 3])));
  const answer = t.next(socket, "answer");
  socket.emit("ask_client", { n: 1 });
  const answered = await answer;
  const byId = await new Promise((resolve) => socket.emit("server_ask", socket.id, "q2", (...args) => resolve(args)));
  return { answered, byId, questions: questions.map((args) => args.slice(0, -1)) };
}

/// A byte pattern of `length` bytes (the test computes the same one).
function pattern(length) {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 256);
}

/// Binary out and back: as event arguments (top level, nested, several attachments, a large
/// one) and in an ack; Node's Buffer, Uint8Array and ArrayBuffer all go out.
export async function binary(t) {
  const socket = await t.connect();
  const echo = t.next(socket, "echo");
  socket.emit(
    "echo",
    "label",
    Uint8Array.from([0, 1, 2, 253, 254, 255]),
    { nested: { text: Buffer.from("héllo") }, list: [pattern(3).buffer, 7] },
    pattern(100_000),
  );
  const echoed = await echo;
  const acked = await new Promise((resolve) => socket.emit("echo_ack", Buffer.from([9, 8, 7]), { b: Buffer.alloc(0) }, (...args) => resolve(args)));
  return { echoed, acked };
}

/// Refusals the client sees as connect_error: by the connect handler with data, by the connect
/// handler returning false, and for a namespace the server does not have.
export async function refused(t) {
  const outcome = {};
  const attempts = {
    refuse: () => t.socket("/", { auth: { token: "refuse" } }),
    false: () => t.socket("/", { auth: { token: "false" } }),
    nope: () => t.socket("/nope"),
  };
  for (const [label, open] of Object.entries(attempts)) {
    const socket = open();
    const connects = t.collect(socket, "connect");
    const [error] = await t.next(socket, "connect_error");
    await t.sleep(100); // a connect that would follow the refusal has time to show up
    outcome[label] = {
      message: error.message,
      data: error.data ?? null,
      connected: socket.connected,
      active: socket.active,
      connects: connects.length,
    };
  }
  return outcome;
}

/// Disconnect reasons: the server disconnects the socket (from its handler and by id from
/// another socket), the client disconnects, and, on one multiplexed connection, the server
/// disconnects `/` while `/chat` stays usable.
export async function disconnects(t) {
  const self = await t.connect();
  const selfGone = t.next(self, "disconnect");
  self.emit("disconnect_me");
  const [selfReason] = await selfGone;
  await t.sleep(100); // a reconnect attempt would start here
  const server = { reason: selfReason, connected: self.connected, active: self.active };

  const victim = await t.connect();
  const killer = await t.connect();
  const victimGone = t.next(victim, "disconnect");
  const killed = await killer.timeout(10000).emitWithAck("server_disconnect", victim.id);
  const [byIdReason] = await victimGone;

  const leaving = await t.connect();
  const leavingGone = t.next(leaving, "disconnect");
  leaving.disconnect();
  const [clientReason] = await leavingGone;

  const manager = t.manager();
  const root = manager.socket("/");
  const chat = manager.socket("/chat");
  const welcomeChat = t.next(chat, "welcome_chat");
  await Promise.all([t.connected(root), t.connected(chat)]);
  const [welcome] = await welcomeChat;
  const rootGone = t.next(root, "disconnect");
  root.emit("disconnect_me");
  const [rootReason] = await rootGone;
  const chatEcho = t.next(chat, "echo");
  chat.emit("echo", "still here");
  return {
    server,
    byId: { killed, reason: byIdReason, active: victim.active },
    client: { reason: clientReason, active: leaving.active },
    multiplexed: {
      sameEngine: root.io === chat.io,
      chatSid: welcome.sid === chat.id,
      rootReason,
      chatConnected: chat.connected,
      chatEcho: await chatEcho,
    },
  };
}

/// Date values: a JavaScript Date sent as an argument (the client writes it with toJSON, an
/// ISO string) comes back one second later, and the handshake's wall-clock stamps parse.
export async function dates(t) {
  const before = Date.now();
  const socket = await t.connect("/", { auth: { token: "dates" } });
  const after = Date.now();
  const sent = new Date("2026-11-29T18:30:00.123Z");
  const plusSecond = await socket.timeout(10000).emitWithAck("date_plus_second", sent);
  const newYear = await socket.timeout(10000).emitWithAck("date_plus_second", new Date("2026-12-31T23:59:59Z"));
  const handshake = await socket.timeout(10000).emitWithAck("handshake");
  return {
    plusSecond,
    plusSecondMs: Date.parse(plusSecond) - sent.getTime(),
    newYear,
    handshake,
    timeParsed: Date.parse(handshake.time),
    before,
    after,
  };
}

/// Acks on demand: a handler answers when it chooses (`ack_later` ms) or never (`silent`),
/// and the client's own timeout decides; a late answer after the client gave up is ignored.
export async function acksOnDemand(t) {
  const socket = await t.connect();
  let silent = null;
  try {
    await socket.timeout(300).emitWithAck("silent", 1);
  } catch (error) {
    silent = error.message;
  }
  const later = await new Promise((resolve) => socket.timeout(10000).emit("ack_later", 200, (err, ...args) => resolve({ err, args })));
  let tooLate = null;
  try {
    await socket.timeout(100).emitWithAck("ack_later", 1000);
  } catch (error) {
    tooLate = error.message;
  }
  await t.sleep(1200); // the late answer arrives meanwhile and must change nothing
  const after = await socket.timeout(10000).emitWithAck("echo_ack", "still fine");
  return { silent, later, tooLate, after };
}

/// The client's `retries` with `ackTimeout`: `ack_maybe` n answers (with how many calls it has
/// seen on this socket) only after n unanswered calls, `silent` never answers.
export async function retries(t) {
  // The answered tries must beat ackTimeout: a second is a wide margin on a loaded machine.
  const socket = await t.connect("/", { retries: 3, ackTimeout: t.options.ackTimeout ?? 1000 });
  const call = (...args) => new Promise((resolve) => socket.emit(...args, (err, ...answer) => resolve({ err, answer })));
  const thirdRetry = await call("ack_maybe", 3); // tries 1-3 unanswered, the 4th answered
  const silent = await call("silent", "x"); // 4 tries, then the client fails
  const exhausted = await call("ack_maybe", 100); // tries 5-8 unanswered: fails
  const count = await call("ack_maybe", 0); // the 9th call: 4 + 4 + 1
  const withAck = await socket.emitWithAck("echo_ack", "fine");
  return { thirdRetry, silent, exhausted, count, withAck };
}

/// A namespace middleware (`/guarded` admits auth {"token": "let-me-in"} only) refuses before
/// the socket exists: connect_error carries its message and data, and the namespace's
/// connect handler never ran nor did the socket join it (`guarded_stats` on `/`).
export async function middleware(t) {
  const watcher = await t.connect();
  const stats = () => watcher.timeout(10000).emitWithAck("guarded_stats");
  const before = await stats();
  const refused = t.socket("/guarded", { auth: { token: "nope" } });
  const welcomes = t.collect(refused, "guarded_welcome");
  const { event, args } = await t.first(refused, ["connect_error", "connect"]);
  await t.sleep(100); // a welcome that would follow has time to show up
  const error = event === "connect_error" ? args[0] : null;
  const refusal = {
    message: error?.message ?? "(connected)",
    data: error?.data ?? null,
    welcomes: welcomes.length,
    active: refused.active,
  };
  const afterRefusal = await stats();
  const admitted = t.socket("/guarded", { auth: { token: "let-me-in" } });
  const welcome = t.next(admitted, "guarded_welcome");
  await t.connected(admitted);
  return { before, refusal, afterRefusal, welcome: await welcome, afterAdmission: await stats() };
}

/// Graceful shutdown (test_graceful_shutdown.py): the server emits `goodbye`, then the scenario
/// sends it SIGTERM (`t.options.serverPid`) and the test starts the next server on the same
/// port. With reconnection on, the client must get `goodbye`, then lose its transport (not
/// `io server disconnect`, after which it would not reconnect) and connect again there.
export async function shutdownReconnect(t) {
  const socket = t.socket("/", { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 500, randomizationFactor: 0 });
  const events = [];
  socket.on("connect", () => events.push(["connect"]));
  socket.on("disconnect", (reason) => events.push(["disconnect", reason]));
  socket.on("goodbye", (text) => events.push(["goodbye", text]));
  await t.connected(socket);
  const answer = await socket.timeout(10000).emitWithAck("server_emit", { event: "goodbye", args: ["last words"] });
  process.kill(t.options.serverPid, "SIGTERM");
  await t.until(() => events.filter(([event]) => event === "connect").length === 2, "the reconnect", 25000);
  const echoed = await socket.timeout(10000).emitWithAck("echo_ack", "again");
  return { answer, events, echoed };
}
