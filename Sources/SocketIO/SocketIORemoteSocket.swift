//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import HTTPTypes
import NIOCore
import OrderedCollections
public import SocketIOParser

/// A socket found by `fetchSockets()` on any node of the cluster (Node's `RemoteSocket`):
/// a copy of its id, handshake, rooms and ``data`` taken when it was fetched, and methods
/// that act on it wherever it lives (through the adapter, so over the backplane for a
/// socket of another node).
public struct SocketIORemoteSocket: Sendable {
    /// The socket id.
    public let id: String
    /// The socket's namespace.
    public let namespace: String
    /// What the client sent when it connected.
    public let handshake: SocketIORemoteHandshake
    /// The rooms the socket was in (its own id included), sorted.
    public let rooms: [String]
    /// The socket's ``SocketIOSocket/data`` when it was fetched.
    public let data: SocketIOValue
    /// The host id of the node the socket is connected to.
    public let nodeID: String
    let adapter: any SocketIOAdapter

    /// Describes a socket; `adapter` carries out ``emit(_:arguments:)``, ``join(_:)``,
    /// ``leave(_:)`` and ``disconnect(close:)``.
    public init(
        id: String,
        namespace: String,
        handshake: SocketIORemoteHandshake,
        rooms: [String],
        data: SocketIOValue,
        nodeID: String,
        adapter: any SocketIOAdapter
    ) {
        self.id = id
        self.namespace = namespace
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
        self.nodeID = nodeID
        self.adapter = adapter
    }

    /// A snapshot of a socket of this node.
    public init(_ socket: SocketIOSocket, nodeID: String, adapter: any SocketIOAdapter) {
        self.init(
            id: socket.id,
            namespace: socket.namespace,
            handshake: SocketIORemoteHandshake(socket.handshake),
            rooms: adapter.rooms(sid: socket.id, namespace: socket.namespace),
            data: socket.data,
            nodeID: nodeID,
            adapter: adapter
        )
    }

    /// Emits an event to this socket; returns at once.
    public func emit(_ event: String, arguments: [SocketIOValue]) {
        self.adapter.broadcast(.event(event, arguments, namespace: self.namespace), to: SocketIOBroadcastTarget(namespace: self.namespace, rooms: [self.id]))
    }

    /// Emits an event to this socket; returns at once.
    public func emit(_ event: String, _ arguments: SocketIOValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Emits an event to this socket and waits for its ack (the owner's node times out
    /// after `timeout`).
    /// - Throws: ``SocketIOAckError/unknownSocket`` when no node has it any more.
    public func emitWithAck(_ event: String, arguments: [SocketIOValue], timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue] {
        try await self.adapter.emitWithAck(.event(event, arguments, namespace: self.namespace), toSocket: self.id, timeout: timeout)
    }

    /// Puts the socket in rooms, wherever it lives.
    public func join(_ rooms: String...) {
        self.join(rooms)
    }

    /// Puts the socket in rooms, wherever it lives.
    public func join(_ rooms: [String]) {
        self.adapter.join(sid: self.id, rooms: rooms, namespace: self.namespace)
    }

    /// Takes the socket out of rooms, wherever it lives.
    public func leave(_ rooms: String...) {
        self.leave(rooms)
    }

    /// Takes the socket out of rooms, wherever it lives.
    public func leave(_ rooms: [String]) {
        self.adapter.leave(sid: self.id, rooms: rooms, namespace: self.namespace)
    }

    /// Disconnects the socket from its namespace, wherever it lives; with `close`, also
    /// closes its connection.
    public func disconnect(close: Bool = false) {
        self.adapter.disconnectSockets(SocketIOBroadcastTarget(namespace: self.namespace, rooms: [self.id]), close: close)
    }
}

/// The part of a ``SocketIOHandshake`` that travels between nodes (Node's `handshake` of a
/// `RemoteSocket`).
public struct SocketIORemoteHandshake: Sendable, Hashable {
    /// Headers by lowercased name; repeated headers joined with `", "`.
    public var headers: [String: String]
    /// The first value of each query parameter.
    public var query: [String: String]
    /// The CONNECT payload (`auth`), or `nil`.
    public var auth: SocketIOValue?
    /// The client's address (Node's `handshake.address`).
    public var address: String?
    /// The connection time as JavaScript's `Date.toString()` writes it (Node's `time`).
    public var time: String
    /// The connection time in milliseconds since 1970 (Node's `issued`).
    public var issued: Int64
    /// The handshake request target (Node's `url`).
    public var url: String
    /// Whether the client connected over TLS (Node's `secure`).
    public var secure: Bool

    /// A handshake with these fields.
    public init(
        headers: [String: String] = [:],
        query: [String: String] = [:],
        auth: SocketIOValue? = nil,
        address: String? = nil,
        time: String = "",
        issued: Int64 = 0,
        url: String = "",
        secure: Bool = false
    ) {
        self.headers = headers
        self.query = query
        self.auth = auth
        self.address = address
        self.time = time
        self.issued = issued
        self.url = url
        self.secure = secure
    }

    /// The travelling part of a local socket's handshake.
    public init(_ handshake: SocketIOHandshake) {
        var headers: [String: String] = [:]
        for field in handshake.headers {
            let key = field.name.canonicalName
            let value = field.value
            if let existing = headers[key] { headers[key] = existing + ", " + value } else { headers[key] = value }
        }
        self.init(
            headers: headers,
            query: handshake.query,
            auth: handshake.auth,
            address: handshake.address,
            time: handshake.time,
            issued: handshake.issued,
            url: handshake.url,
            secure: handshake.secure
        )
    }

    /// The JSON object sent between nodes:
    /// `{"headers":{…},"query":{…},"auth":…,"address":…,"time":…,"issued":N,"url":…,"secure":bool}`.
    public var value: SocketIOValue {
        .object([
            "headers": .object(.init(uniqueKeysWithValues: self.headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            "query": .object(.init(uniqueKeysWithValues: self.query.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            "auth": self.auth ?? .null,
            "address": self.address.map { .string($0) } ?? .null,
            "time": .string(self.time),
            "issued": .int(Int(self.issued)),
            "url": .string(self.url),
            "secure": .bool(self.secure),
        ])
    }

    /// Reads the object written by ``value``; fields missing or of the wrong type are left
    /// empty (a peer of another version may send fewer).
    public init(value: SocketIOValue) {
        func strings(_ field: SocketIOValue?) -> [String: String] {
            var result: [String: String] = [:]
            for (key, value) in field?.objectValue ?? [:] { if let text = value.stringValue { result[key] = text } }
            return result
        }
        let auth = value["auth"]
        self.init(
            headers: strings(value["headers"]),
            query: strings(value["query"]),
            auth: auth == nil || auth == .null ? nil : auth,
            address: value["address"]?.stringValue,
            time: value["time"]?.stringValue ?? "",
            issued: Int64(value["issued"]?.intValue ?? 0),
            url: value["url"]?.stringValue ?? "",
            secure: value["secure"]?.boolValue ?? false
        )
    }
}
