// DRAFT scenarios for the rest of issue 14, run by Tests/Interop/draft_js_client_issue14.py
// (not collected by pytest until it is renamed test_*.py). They need socketio-testserver
// events and options that do not exist yet (listed in that file's docstring): against
// today's server they fail, on purpose.

/// Whether `predicate` becomes true within `ms` (the scenario reports, the test judges).
async function settles(t, predicate, ms = 3000) {
  try {
    await t.until(predicate, "", ms);
    return true;
  } catch {
    return false;
  }
}

/// `retries: 3` with `ackTimeout`, emitting to a handler that never acknowledges: the client
/// sends the packet 1 + 3 times, then fails; the same through `timeout().emitWithAck`.
/// Needs: event `never_ack` (never acks; emits `never_ack_seen` *args each time it runs);
/// an acked event still works on the same socket.
export async function retries(t) {
  const ackTimeout = t.options.ackTimeout ?? 300;
  const socket = await t.connect("/", { retries: 3, ackTimeout });
  const seen = t.collect(socket, "never_ack_seen");
  const callback = await new Promise((resolve) => socket.emit("never_ack", "r1", (err, ...args) => resolve({ err, args })));
  let rejected = null;
  try {
    await socket.timeout(ackTimeout).emitWithAck("never_ack", "r2");
  } catch (error) {
    rejected = error.message;
  }
  const acked = await socket.emitWithAck("echo_ack", "fine");
  await settles(t, () => seen.length >= 8, 1000);
  return { callback, rejected, acked, seen };
}

/// An ack that comes when the handler is ready: within the client's timeout it resolves,
/// after it the client has already failed (and ignores the late answer).
/// Needs: event `late_ack` ms, value (acks value after ms).
export async function lateAck(t) {
  const socket = await t.connect();
  const inTime = await socket.timeout(3000).emitWithAck("late_ack", 200, "later");
  let tooLate = null;
  try {
    await socket.timeout(200).emitWithAck("late_ack", 1000, "too late");
  } catch (error) {
    tooLate = error.message;
  }
  await t.sleep(1000); // the late answer arrives meanwhile and must not break anything
  const after = await socket.timeout(3000).emitWithAck("echo_ack", "still fine");
  return { inTime, tooLate, after };
}

/// Middleware refusal: connect_error carries the middleware's message and data, and the
/// socket never existed on the server (no connect handler run, in no room).
/// Needs: an `io.use` middleware refusing auth {"token": "middleware"} with "refused by
/// middleware", data {"reason": "middleware"}; the same on `/chat` (namespace.use, "refused
/// by /chat middleware"); events `connect_count` (acks how many times `/`'s connect handler
/// ran since start) and `all_sockets` (acks the sorted ids of the sockets in `/`).
export async function middleware(t) {
  const watcher = await t.connect();
  const before = await watcher.timeout(3000).emitWithAck("connect_count");
  const outcome = {};
  for (const namespace of ["/", "/chat"]) {
    const socket = t.socket(namespace, { auth: { token: "middleware" } });
    const welcomes = t.collect(socket, namespace === "/" ? "welcome" : "welcome_chat");
    const connects = t.collect(socket, "connect");
    // Whichever comes first, so that a server without the middleware fails the test with
    // "connected" rather than a timeout.
    const first = await t.first(socket, ["connect_error", "connect"]);
    const error = first.event === "connect_error" ? first.args[0] : null;
    await t.sleep(100); // a connect or welcome that would follow has time to show up
    outcome[namespace] = {
      message: error?.message ?? "(connected)",
      data: error?.data ?? null,
      connects: connects.length,
      welcomes: welcomes.length,
      active: socket.active,
    };
  }
  const after = await watcher.timeout(3000).emitWithAck("connect_count");
  const sockets = await watcher.timeout(3000).emitWithAck("all_sockets");
  return { outcome, before, after, sockets, watcher: watcher.id };
}

/// Drops A's transport without a Socket.IO DISCONNECT: from the client (`engine.close()`)
/// or, with `drop: "server"`, through event `drop_transport` (the server closes the Engine.IO
/// connection abruptly). Resolves with the client's disconnect reason once the server no
/// longer lists A (event `all_sockets`).
async function dropTransport(t, a, b) {
  const id = a.id;
  const gone = t.next(a, "disconnect");
  if (t.options.drop === "server") a.emit("drop_transport");
  else a.io.engine.close();
  const [reason] = await gone;
  await t.until(async () => !(await b.timeout(3000).emitWithAck("all_sockets")).includes(id), "the server to drop A");
  return reason;
}

/// Connection state recovery. A joins room r and counts to 2 in its session, B sends m0 to
/// r, A's transport drops, B sends m1..m3 to r and b1 to everyone, A reconnects (the same
/// Manager, so it sends its pid and last offset), then B sends m4. With recovery on and the
/// session alive A gets the same id, `recovered`, room r, its session (count goes on at 3)
/// and every missed message in order; expired (t.options.waitMs past the server's limit),
/// a new id and nothing missed.
/// Needs: option `--recovery-ms N` (connectionStateRecovery, maxDisconnectionDuration N);
/// `all_sockets`; `drop_transport` only with drop "server".
export async function recovery(t) {
  const a = t.socket("/");
  const log = [];
  const messages = [];
  a.on("connect", () => log.push("<connect>"));
  a.on("room_message", (...args) => {
    messages.push(args);
    log.push(args[0]);
  });
  a.on("broadcast_message", (...args) => {
    messages.push(args);
    log.push(args[0]);
  });
  await t.connected(a);
  const first = { id: a.id, recovered: a.recovered ?? null };
  await a.timeout(3000).emitWithAck("join", "r");
  const counts = [await a.timeout(3000).emitWithAck("count"), await a.timeout(3000).emitWithAck("count")];
  const b = await t.connect();
  const toRoom = (data) => b.timeout(3000).emitWithAck("to_room", { room: "r", data, include_self: false });
  await toRoom("m0");
  await t.until(() => messages.length === 1, "m0 at A");

  const dropReason = await dropTransport(t, a, b);
  for (const data of ["m1", "m2", "m3"]) await toRoom(data);
  await b.timeout(3000).emitWithAck("broadcast", "b1", false);
  if (t.options.waitMs) await t.sleep(t.options.waitMs);

  const back = t.next(a, "connect");
  a.connect();
  await back;
  const second = { id: a.id, recovered: a.recovered ?? null };
  const rooms = await a.timeout(3000).emitWithAck("rooms");
  const count = await a.timeout(3000).emitWithAck("count");
  await toRoom("m4");
  await settles(t, () => log.includes("m4"));
  return {
    first,
    second,
    counts: [...counts, count],
    dropReason,
    rooms,
    log,
    // With a pid, every broadcast carries its offset as a last, extra string argument.
    offsets: messages.map((args) => args.length === 2 && typeof args[1] === "string"),
  };
}

/// A session ended on purpose is not recoverable: after `io server disconnect` (event
/// `disconnect_me`) a new connect gets a new id, even with recovery on.
export async function recoveryNotAfterServerDisconnect(t) {
  const a = await t.connect();
  const first = a.id;
  const gone = t.next(a, "disconnect");
  a.emit("disconnect_me");
  const [reason] = await gone;
  const back = t.next(a, "connect");
  a.connect();
  await back;
  return { first, second: a.id, reason, recovered: a.recovered ?? null };
}
