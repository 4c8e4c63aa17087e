//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import Foundation
import NIOCore
import HTTPTypes
import NIOHTTP1

/// Serves the demo page at `/` and the JavaScript client at `/socket.io/socket.io.js`.
struct DemoPage: Sendable {
    /// The socket.io-client bundle the page loads when no local file is configured.
    static let clientCDN = "https://cdn.socket.io/4.8.1/socket.io.min.js"

    let clientBundle: ByteBuffer?

    init(clientBundlePath: String?) throws {
        if let path = clientBundlePath {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            self.clientBundle = ByteBuffer(bytes: data)
        } else {
            self.clientBundle = nil
        }
    }

    func route(_ request: EngineIORequest) -> EngineIOResponse? {
        switch request.path {
        case "/", "/index.html":
            // One buffer for every request: responses share its storage instead of copying
            // the page (a pipelining client otherwise makes the server allocate a page per
            // request it sends).
            return Self.page
        case "/socket.io.js", "/socket.io/socket.io.js":
            guard let bundle = self.clientBundle else { return .redirect(to: Self.clientCDN) }
            return EngineIOResponse(headerFields: [.contentType: "application/javascript; charset=utf-8"], body: bundle)
        default:
            return nil
        }
    }

    /// The page's response, built once.
    static let page = EngineIOResponse(contentType: "text/html; charset=utf-8", body: Self.html)

    static let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>swift-socketio demo</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 2em; max-width: 56em; }
          form { margin: 0.4em 0; }
          input[type=text] { width: 14em; }
          #log { border: 1px solid #ccc; padding: 0.5em; height: 18em; overflow-y: auto; font-family: monospace; }
        </style>
        <script src="/socket.io/socket.io.js"></script>
        </head>
        <body>
        <h1>swift-socketio demo</h1>
        <p>Transport: <b id="transport">-</b> &middot; Average ping/pong latency: <b id="ping-pong">-</b> ms</p>
        <h2>Send:</h2>
        <form id="emit"><input type="text" id="emit_data" placeholder="Message"><input type="submit" value="Echo"></form>
        <form id="broadcast"><input type="text" id="broadcast_data" placeholder="Message"><input type="submit" value="Broadcast"></form>
        <form id="join"><input type="text" id="join_room" placeholder="Room Name"><input type="submit" value="Join Room"></form>
        <form id="leave"><input type="text" id="leave_room" placeholder="Room Name"><input type="submit" value="Leave Room"></form>
        <form id="send_room"><input type="text" id="room_name" placeholder="Room Name"><input type="text" id="room_data" placeholder="Message"><input type="submit" value="Send to Room"></form>
        <form id="close"><input type="text" id="close_room" placeholder="Room Name"><input type="submit" value="Close Room"></form>
        <form id="disconnect"><input type="submit" value="Disconnect"></form>
        <h2>Receive:</h2>
        <div id="log"></div>
        <script>
          const log = (text) => {
            const line = document.createElement('div');
            line.textContent = text;
            const box = document.getElementById('log');
            box.appendChild(line);
            box.scrollTop = box.scrollHeight;
          };
          const socket = io();
          window.demoSocket = socket;
          const showTransport = () => {
            document.getElementById('transport').textContent = socket.io.engine ? socket.io.engine.transport.name : '-';
          };
          socket.on('connect', () => {
            showTransport();
            socket.io.engine.on('upgrade', showTransport);
          });
          socket.on('my_response', (msg, cb) => {
            log('Received #' + msg.count + ': ' + msg.data);
            if (cb) cb();
          });
          socket.on('disconnect', (reason) => log('Disconnected: ' + reason));
          const pings = [];
          let start;
          setInterval(() => { start = performance.now(); socket.emit('my_ping'); }, 1000);
          socket.on('my_pong', () => {
            pings.push(performance.now() - start);
            if (pings.length > 30) pings.shift();
            const sum = pings.reduce((a, b) => a + b, 0);
            document.getElementById('ping-pong').textContent = (sum / pings.length).toFixed(2);
          });
          const on = (id, handler) => document.getElementById(id).addEventListener('submit', (e) => { e.preventDefault(); handler(); });
          const val = (id) => document.getElementById(id).value;
          on('emit', () => socket.emit('my_event', {data: val('emit_data')}));
          on('broadcast', () => socket.emit('my_broadcast_event', {data: val('broadcast_data')}));
          on('join', () => socket.emit('join', {room: val('join_room')}));
          on('leave', () => socket.emit('leave', {room: val('leave_room')}));
          on('send_room', () => socket.emit('my_room_event', {room: val('room_name'), data: val('room_data')}));
          on('close', () => socket.emit('close_room', {room: val('close_room')}));
          on('disconnect', () => socket.emit('disconnect_request'));
        </script>
        </body>
        </html>
        """
}
