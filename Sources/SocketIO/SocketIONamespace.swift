//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
public import SocketIOParser

/// A namespace (Node's `Namespace`, Flask's `namespace=`): its handlers, its middlewares,
/// its error handler, and its view of the client manager.
///
/// ```swift
/// let chat = io.of("/chat")
/// chat.use { socket in guard socket.handshake.auth?["token"] != nil else { throw ConnectionRefused("no token") } }
/// chat.on("message") { socket, args in socket.to("lobby").emit("message", arguments: args) }
/// chat.to("lobby").emit("news", "hello")
/// ```
public final class SocketIONamespace: SocketIOHandlerRegistering, SocketIOBroadcastOperatorProviding {
    /// The namespace's name, e.g. `/` or `/chat`.
    public let name: String
    /// The parent namespace that created this one for a matching name, if any.
    public let parent: SocketIOParentNamespace?
    /// The client manager (shared by every namespace of a server).
    public let adapter: any SocketIOAdapter
    let handlers: SocketIOHandlerBox
    let defaultAckTimeout: Duration

    init(name: String, adapter: any SocketIOAdapter, defaultAckTimeout: Duration, handlers: SocketIOHandlerBox = SocketIOHandlerBox(), parent: SocketIOParentNamespace? = nil) {
        self.name = name
        self.adapter = adapter
        self.defaultAckTimeout = defaultAckTimeout
        self.handlers = handlers
        self.parent = parent
    }

    public var registrationNamespace: SocketIONamespace { self }

    public var broadcastOperator: SocketIOBroadcastOperator {
        SocketIOBroadcastOperator(adapter: self.adapter, target: SocketIOBroadcastTarget(namespace: self.name), defaultAckTimeout: self.defaultAckTimeout)
    }

    /// The ids of this node's sockets in a room (python-socketio `get_participants`).
    public func localMembers(of room: String) -> [String] {
        self.adapter.localMembers(of: room, namespace: self.name)
    }

    /// The socket of this node with that id.
    public func socket(id: String) -> SocketIOSocket? {
        self.adapter.localSocket(sid: id, namespace: self.name)
    }
}

/// A namespace that matches names (Node's `ParentNamespace`: `io.of(/^\/team-\d+$/)`;
/// Flask's `namespaces="*"` with ``SocketIOServer/ofAny()``): a client that connects to
/// a matching name gets a child namespace, created on first use, which shares this
/// parent's handlers and middlewares (also those added later).
public final class SocketIOParentNamespace: SocketIOHandlerRegistering {
    /// Decides whether a name (with the client's auth) gets a child namespace.
    public typealias Matcher = @Sendable (_ name: String, _ auth: SocketIOValue?) -> Bool

    let matcher: Matcher
    /// The handlers the children share, registered through this template.
    let template: SocketIONamespace
    private let children = NIOLockedValueBox<[String: SocketIONamespace]>([:])

    init(description: String, matcher: @escaping Matcher, adapter: any SocketIOAdapter, defaultAckTimeout: Duration) {
        self.matcher = matcher
        self.template = SocketIONamespace(name: description, adapter: adapter, defaultAckTimeout: defaultAckTimeout)
    }

    public var registrationNamespace: SocketIONamespace { self.template }

    /// The child namespaces created so far.
    public var namespaces: [SocketIONamespace] {
        self.children.withLockedValue { Array($0.values) }
    }

    /// Emits to every socket of every child namespace.
    public func emit(_ event: String, _ arguments: SocketIOValue...) {
        for child in self.namespaces { child.emit(event, arguments: arguments) }
    }

    /// The child for `name`, made on first use.
    func child(_ name: String) -> SocketIONamespace {
        self.children.withLockedValue { children in
            if let child = children[name] { return child }
            let child = SocketIONamespace(
                name: name,
                adapter: self.template.adapter,
                defaultAckTimeout: self.template.defaultAckTimeout,
                handlers: self.template.handlers,
                parent: self
            )
            children[name] = child
            return child
        }
    }

    func remove(_ child: SocketIONamespace) {
        self.children.withLockedValue { children in
            if children[child.name] === child { children[child.name] = nil }
        }
    }
}
