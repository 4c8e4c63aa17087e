//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import Foundation
import Hummingbird

/// The chat's page at `/` (login form or chat) and the JavaScript client at
/// `/socket.io/socket.io.js`.
struct ChatPage: Sendable {
    /// The socket.io-client bundle the page loads when no local file is configured.
    static let clientCDN = "https://cdn.socket.io/4.8.1/socket.io.min.js"

    let clientBundle: ByteBuffer?

    init(clientBundlePath: String?) throws {
        self.clientBundle = try clientBundlePath.map { ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: $0))) }
    }

    /// The client bundle, or a redirect to the CDN when none was given (as `socketio-demo`).
    func clientBundleResponse() -> Response {
        guard let bundle = self.clientBundle else { return .redirect(to: Self.clientCDN, type: .found) }
        return Response(
            status: .ok,
            headers: [.contentType: "application/javascript; charset=utf-8"],
            body: ResponseBody(byteBuffer: bundle)
        )
    }

    /// The page for `user` (the chat) or for a visitor (the login form, with `loginError`).
    static func response(user: User?, loginError: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let main = user.map(Self.chat) ?? Self.login(error: loginError)
        let html = Self.head + main + Self.tail
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    private static func login(error: String?) -> String {
        let message = error.map { #"<p id="login-error" class="error">\#(escape($0))</p>"# } ?? ""
        return """
            <h1>swift-socketio chat</h1>
            \(message)
            <form id="login" method="post" action="/login">
              <input id="name" name="name" placeholder="name" autocomplete="username">
              <input id="password" name="password" type="password" placeholder="password" autocomplete="current-password">
              <button type="submit">Log in</button>
            </form>
            <p>Socket.IO: <span id="status">connecting…</span></p>
            """
    }

    private static func chat(_ user: User) -> String {
        """
        <h1>swift-socketio chat</h1>
        <p>Logged in as <b id="user">\(escape(user.name))</b>.
          <form id="logout" method="post" action="/logout"><button type="submit">Log out</button></form></p>
        <p>Socket.IO: <span id="status">connecting…</span></p>
        <form id="join"><input id="room" placeholder="room"> <button type="submit">Join</button></form>
        <p>Rooms: <span id="rooms"></span></p>
        <form id="send"><input id="msg_room" placeholder="room"> <input id="msg_text" placeholder="message">
          <button type="submit">Send</button></form>
        <h2>Messages</h2><div id="messages" class="log"></div>
        <h2>Notifications</h2><div id="notifications" class="log"></div>
        """
    }

    /// The script runs on both pages: logged out, it connects only to show the server's
    /// refusal (`connect_error` with the middleware's message).
    private static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>swift-socketio chat</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 2em; max-width: 48em; }
          form { margin: 0.4em 0; display: inline-block; }
          .log { border: 1px solid #ccc; padding: 0.5em; min-height: 4em; font-family: monospace; }
          .error { color: #b00; }
        </style>
        <script src="/socket.io/socket.io.js"></script>
        </head>
        <body>

        """

    private static let tail = """

        <script>
        const byId = (id) => document.getElementById(id);
        const line = (id, text) => {
          const div = document.createElement('div');
          div.textContent = text;
          byId(id).appendChild(div);
        };
        const socket = io();
        window.chatSocket = socket;
        socket.on('connect', () => {
          byId('status').textContent = 'connected';
          socket.emit('whoami', (name) => { byId('status').textContent = 'connected as ' + name; });
        });
        socket.on('connect_error', (err) => { byId('status').textContent = 'refused: ' + err.message; });
        socket.on('disconnect', (reason) => { byId('status').textContent = 'disconnected: ' + reason; });
        socket.on('message', (m) => line('messages', '[' + m.room + '] ' + m.from + ': ' + m.text));
        socket.on('notification', (n) => line('notifications', n.text));
        const showRooms = (answer) => {
          byId('rooms').textContent = answer.error ? answer.error : answer.rooms.join(', ');
        };
        if (byId('join')) {
          byId('join').addEventListener('submit', (event) => {
            event.preventDefault();
            socket.emit('join', { room: byId('room').value }, showRooms);
          });
          byId('send').addEventListener('submit', (event) => {
            event.preventDefault();
            socket.emit('message', { room: byId('msg_room').value, text: byId('msg_text').value });
          });
        }
        </script>
        </body>
        </html>
        """

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
#endif
