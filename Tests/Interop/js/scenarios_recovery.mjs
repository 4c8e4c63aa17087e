// Scenarios for connection state recovery (issue 14), run by
// Tests/Interop/test_js_client_recovery.py against socketio-testserver --recovery-ms N.

/// Whether `predicate` becomes true within `ms` (the scenario reports, the test judges).
async function settles(t, predicate, ms = 3000) {
  try {
    await t.until(predicate, "", ms);
    return true;
  } catch {
    return false;
  }
}

/// Drops A's transport without a Socket.IO DISCONNECT: from the client (`engine.close()`)
/// or, with `drop: "server"`, through event `drop_transport` (not in the test server yet: the
/// server would close the Engine.IO connection abruptly). Resolves with the client's
/// disconnect reason once the server no longer lists A in room r (`members` r, asked by B).
async function dropTransport(t, a, b) {
  const id = a.id;
  const gone = t.next(a, "disconnect");
  if (t.options.drop === "server") a.emit("drop_transport");
  else a.io.engine.close();
  const [reason] = await gone;
  await t.until(async () => !(await members(b, "r")).includes(id), "the server to drop A");
  return reason;
}

/// The ids in `room` on the server's node, asked through `socket`.
function members(socket, room) {
  return socket.timeout(10000).emitWithAck("members", room);
}

/// Connection state recovery. A joins room r and counts to 2 in its session, B sends m0 to
/// r, A's transport drops, B sends m1..m3 to r and b1 to everyone, A reconnects (the same
/// Manager, so it sends its pid and last offset), then B sends m4. With recovery on and the
/// session alive A gets the same id, `recovered`, room r, its session (count goes on at 3)
/// and every missed message in order; expired (t.options.waitMs past the server's limit),
/// a new id and nothing missed.
/// Needs: option `--recovery-ms N` (connectionStateRecovery, maxDisconnectionDuration N);
/// `drop_transport` only with drop "server".
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
  await a.timeout(10000).emitWithAck("join", "r");
  const counts = [await a.timeout(10000).emitWithAck("count"), await a.timeout(10000).emitWithAck("count")];
  const b = await t.connect();
  const toRoom = (data) => b.timeout(10000).emitWithAck("to_room", { room: "r", data, include_self: false });
  await toRoom("m0");
  await t.until(() => messages.length === 1, "m0 at A");

  const dropReason = await dropTransport(t, a, b);
  for (const data of ["m1", "m2", "m3"]) await toRoom(data);
  await b.timeout(10000).emitWithAck("broadcast", "b1", false);
  if (t.options.waitMs) await t.sleep(t.options.waitMs);

  const back = t.next(a, "connect");
  a.connect();
  await back;
  const second = { id: a.id, recovered: a.recovered ?? null };
  const rooms = await a.timeout(10000).emitWithAck("rooms");
  const membersOfR = await members(b, "r");
  const count = await a.timeout(10000).emitWithAck("count");
  await toRoom("m4");
  await settles(t, () => log.includes("m4"));
  return {
    first,
    second,
    counts: [...counts, count],
    dropReason,
    rooms,
    membersOfR,
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
