//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//
//
// Our extensions for cluster-wide operations (issue 15); python-socketio ignores methods it
// does not know. Requests go on the main channel; responses and callback misses go to the
// origin (`to` / `host_id`), on its reply channel once the transport has named channels.
//
//   {"method":"request","host_id":<origin>,"request_id":"<n>","type":"fetch_sockets"|"fetch_rooms"|
//    "server_side_emit"|"broadcast_ack","namespace":"/","rooms":[..]|null,"except":[..],"event":..|null,
//    "data":[..],"binary":bool,"timeout_ms":N}
//   {"method":"response","host_id":<responder>,"to":<origin>,"request_id":"<n>","type":..,
//    "sockets":[{"id","namespace","handshake":{..},"rooms":[..],"data":..}] | "rooms":{"r":n} |
//    "answers":[[..],..] | "args":[..], "binary":bool, "complete":bool}
//   {"method":"sockets_join"|"sockets_leave","host_id","namespace","rooms":[..]|null,"except":[..],"target_rooms":[..]}
//   {"method":"disconnect_sockets","host_id","namespace","rooms":[..]|null,"except":[..],"close":bool}
//   {"method":"server_side_emit","host_id","event","data":[..],"binary":bool}
//   {"method":"callback_miss","host_id":<origin>,"from":<responder>,"sid","namespace","id":N}
//
// Binary values travel as in emits: with "binary":true the field holds
// `[value with placeholders, base64 attachment, ...]`.
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import OrderedCollections
public import SocketIOParser

extension MessageQueueMessage {
    /// Bounds on what a peer (or anyone on the channel) can make a node hold.
    public enum Limits {
        /// The most sockets in one `fetch_sockets` response; a responder with more sends
        /// this many and `"complete":false`.
        public static let maxSocketsPerResponse = 10_000
        /// The most rooms in one `fetch_rooms` response.
        public static let maxRoomsPerResponse = 100_000
        /// The most answers in one `broadcast_ack` response.
        public static let maxAnswersPerResponse = 100_000
        /// The most room names in the room lists of a request or socket operation.
        public static let maxRoomsPerRequest = 10_000
    }

    /// A cluster-wide request, answered by every other Swift node.
    public struct Request: Sendable, Hashable {
        /// What is asked (the `type` field).
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case fetchSockets = "fetch_sockets"
            case fetchRooms = "fetch_rooms"
            case serverSideEmit = "server_side_emit"
            case broadcastAck = "broadcast_ack"
        }

        /// The origin.
        public var hostID: String
        /// The origin's id for the request (`request_id`), echoed by the answers.
        public var requestID: String
        /// What is asked.
        public var kind: Kind
        /// The namespace addressed.
        public var namespace: String
        /// Target rooms; `nil` means the whole namespace.
        public var rooms: [String]?
        /// Rooms whose members are left out.
        public var except: [String]
        /// The event of a server-side emit or a broadcast with acks.
        public var event: String?
        /// The event arguments (binary values in place).
        public var arguments: [SocketIOValue]
        /// How long the origin waits (a broadcast's recipients get as long to answer).
        public var timeoutMilliseconds: Int

        /// A request; see the fields.
        public init(
            hostID: String,
            requestID: String,
            kind: Kind,
            namespace: String = "/",
            rooms: [String]? = nil,
            except: [String] = [],
            event: String? = nil,
            arguments: [SocketIOValue] = [],
            timeoutMilliseconds: Int
        ) {
            self.hostID = hostID
            self.requestID = requestID
            self.kind = kind
            self.namespace = namespace
            self.rooms = rooms
            self.except = except
            self.event = event
            self.arguments = arguments
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    /// One node's answer to a ``Request``.
    public struct Response: Sendable, Hashable {
        /// What the responder found, by request kind.
        public enum Payload: Sendable, Hashable {
            /// `fetch_sockets`.
            case sockets([SocketRecord])
            /// `fetch_rooms`: room → member count on the responder.
            case rooms([String: Int])
            /// `broadcast_ack`: one answer per recipient of the responder.
            case answers([[SocketIOValue]])
            /// `server_side_emit`: the responder's ack.
            case arguments([SocketIOValue])

            var kind: Request.Kind {
                switch self {
                case .sockets: return .fetchSockets
                case .rooms: return .fetchRooms
                case .answers: return .broadcastAck
                case .arguments: return .serverSideEmit
                }
            }
        }

        /// The responder.
        public var hostID: String
        /// The origin of the request.
        public var to: String
        /// The request answered.
        public var requestID: String
        /// The answer.
        public var payload: Payload
        /// `false` when the responder sent less than it has (a bound) or some of its
        /// recipients did not ack in time.
        public var complete: Bool

        /// An answer; see the fields.
        public init(hostID: String, to: String, requestID: String, payload: Payload, complete: Bool = true) {
            self.hostID = hostID
            self.to = to
            self.requestID = requestID
            self.payload = payload
            self.complete = complete
        }
    }

    /// One socket in a `fetch_sockets` response.
    public struct SocketRecord: Sendable, Hashable {
        /// The socket id.
        public var id: String
        /// The socket's namespace.
        public var namespace: String
        /// The handshake object (see `SocketIORemoteHandshake.value`).
        public var handshake: SocketIOValue
        /// The socket's rooms, its own id included.
        public var rooms: [String]
        /// The socket's `data`.
        public var data: SocketIOValue

        /// A socket; see the fields.
        public init(id: String, namespace: String, handshake: SocketIOValue, rooms: [String], data: SocketIOValue) {
            self.id = id
            self.namespace = namespace
            self.handshake = handshake
            self.rooms = rooms
            self.data = data
        }

        var value: SocketIOValue {
            .object([
                "id": .string(self.id), "namespace": .string(self.namespace), "handshake": self.handshake,
                "rooms": .array(self.rooms.map { .string($0) }), "data": self.data,
            ])
        }
    }

    /// `socketsJoin`, `socketsLeave` or `disconnectSockets` on a target, on every node.
    public struct SocketsOperation: Sendable, Hashable {
        /// What is done to the sockets: join rooms, leave rooms, or disconnect (`close`: also their connections).
        public enum Action: Sendable, Hashable {
            case join([String])
            case leave([String])
            case disconnect(close: Bool)
        }

        /// The sender.
        public var hostID: String
        /// The namespace addressed.
        public var namespace: String
        /// Target rooms; `nil` means the whole namespace.
        public var rooms: [String]?
        /// Rooms whose members are left out.
        public var except: [String]
        /// What is done.
        public var action: Action

        /// An operation; see the fields.
        public init(hostID: String, namespace: String = "/", rooms: [String]? = nil, except: [String] = [], action: Action) {
            self.hostID = hostID
            self.namespace = namespace
            self.rooms = rooms
            self.except = except
            self.action = action
        }
    }

    // MARK: Encoding

    func encodeCluster(into object: inout OrderedDictionary<String, SocketIOValue>) {
        switch self {
        case .request(let request):
            object["method"] = "request"
            object["host_id"] = .string(request.hostID)
            object["request_id"] = .string(request.requestID)
            object["type"] = .string(request.kind.rawValue)
            object["namespace"] = .string(request.namespace)
            object["rooms"] = request.rooms.map { .array($0.map { .string($0) }) } ?? .null
            object["except"] = .array(request.except.map { .string($0) })
            object["event"] = request.event.map { .string($0) } ?? .null
            let (data, binary) = Self.withAttachments(.array(request.arguments))
            object["data"] = data
            object["binary"] = .bool(binary)
            object["timeout_ms"] = .int(request.timeoutMilliseconds)
        case .response(let response):
            object["method"] = "response"
            object["host_id"] = .string(response.hostID)
            object["to"] = .string(response.to)
            object["request_id"] = .string(response.requestID)
            object["type"] = .string(response.payload.kind.rawValue)
            let field: String
            let value: SocketIOValue
            switch response.payload {
            case .sockets(let sockets):
                (field, value) = ("sockets", .array(sockets.map(\.value)))
            case .rooms(let rooms):
                (field, value) = ("rooms", .object(.init(uniqueKeysWithValues: rooms.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })))
            case .answers(let answers):
                (field, value) = ("answers", .array(answers.map { .array($0) }))
            case .arguments(let arguments):
                (field, value) = ("args", .array(arguments))
            }
            let (encoded, binary) = Self.withAttachments(value)
            object[field] = encoded
            object["binary"] = .bool(binary)
            object["complete"] = .bool(response.complete)
        case .sockets(let operation):
            switch operation.action {
            case .join: object["method"] = "sockets_join"
            case .leave: object["method"] = "sockets_leave"
            case .disconnect: object["method"] = "disconnect_sockets"
            }
            object["host_id"] = .string(operation.hostID)
            object["namespace"] = .string(operation.namespace)
            object["rooms"] = operation.rooms.map { .array($0.map { .string($0) }) } ?? .null
            object["except"] = .array(operation.except.map { .string($0) })
            switch operation.action {
            case .join(let rooms), .leave(let rooms): object["target_rooms"] = .array(rooms.map { .string($0) })
            case .disconnect(let close): object["close"] = .bool(close)
            }
        case .serverSideEmit(let event, let arguments, let host):
            object["method"] = "server_side_emit"
            object["host_id"] = .string(host)
            object["event"] = .string(event)
            let (data, binary) = Self.withAttachments(.array(arguments))
            object["data"] = data
            object["binary"] = .bool(binary)
        case .callbackMiss(let host, let from, let sid, let namespace, let id):
            object = [
                "method": "callback_miss", "host_id": .string(host), "from": .string(from), "sid": .string(sid),
                "namespace": .string(namespace), "id": .int(id),
            ]
        default:
            preconditionFailure("not a cluster-operation message")
        }
    }

    /// A value with binary parts as `[value with placeholders, base64, ...]` and `true`,
    /// or the value itself and `false` (python-socketio's scheme for emits).
    static func withAttachments(_ value: SocketIOValue) -> (SocketIOValue, Bool) {
        guard value.containsBinary else { return (value, false) }
        var attachments: [ByteBuffer] = []
        let deconstructed = SocketIOPacketEncoder.deconstruct(value, into: &attachments)
        return (.array([deconstructed] + attachments.map { buffer in .string(buffer.withUnsafeReadableBytes { Base64Text.encode($0) }) }), true)
    }

    /// The inverse of ``withAttachments(_:)``.
    static func withoutAttachments(_ value: SocketIOValue, binary: Bool, field: String) throws(MessageQueueDecodingError) -> SocketIOValue {
        guard binary else { return value }
        guard case .array(let parts) = value, let first = parts.first else {
            throw MessageQueueDecodingError("\(field): binary data is not [value, attachments...]")
        }
        var attachments: [ByteBuffer] = []
        for part in parts.dropFirst() {
            guard let text = part.stringValue, let bytes = Base64Text.decode(text) else {
                throw MessageQueueDecodingError("\(field): attachment is not base64")
            }
            attachments.append(bytes)
        }
        // Each attachment used exactly once, so that a forged message cannot make every
        // node copy one attachment many times.
        do {
            return try SocketIOPacketEncoder.reconstruct(first, attachments: attachments)
        } catch {
            throw MessageQueueDecodingError("\(field): placeholders are not each attachment exactly once")
        }
    }

    // MARK: Decoding

    static func decodeCluster(
        method: String,
        _ object: OrderedDictionary<String, SocketIOValue>
    ) throws(MessageQueueDecodingError) -> MessageQueueMessage? {
        func string(_ key: String) throws(MessageQueueDecodingError) -> String {
            guard let value = object[key]?.stringValue else { throw MessageQueueDecodingError("\(method): \(key) missing or not a string") }
            return value
        }
        func strings(_ key: String) throws(MessageQueueDecodingError) -> [String] {
            guard case .array(let values)? = object[key] else { throw MessageQueueDecodingError("\(method): \(key) missing or not a list") }
            guard values.count <= Limits.maxRoomsPerRequest else { throw MessageQueueDecodingError("\(method): \(key) too long") }
            var result: [String] = []
            result.reserveCapacity(values.count)
            for value in values {
                guard let text = value.stringValue else { throw MessageQueueDecodingError("\(method): \(key) holds a non-string") }
                result.append(text)
            }
            return result
        }
        func optionalStrings(_ key: String) throws(MessageQueueDecodingError) -> [String]? {
            if object[key] == nil || object[key] == .null { return nil }
            return try strings(key)
        }
        func binary(_ key: String) throws(MessageQueueDecodingError) -> SocketIOValue {
            guard let value = object[key] else { throw MessageQueueDecodingError("\(method): \(key) missing") }
            return try Self.withoutAttachments(value, binary: object["binary"]?.boolValue == true, field: "\(method).\(key)")
        }
        let namespace = object["namespace"]?.stringValue ?? "/"
        switch method {
        case "request":
            guard let kind = Request.Kind(rawValue: try string("type")) else { return nil }
            guard let timeout = object["timeout_ms"]?.intValue, timeout > 0 else {
                throw MessageQueueDecodingError("request: timeout_ms missing or not positive")
            }
            let data = object["data"] == nil ? SocketIOValue.array([]) : try binary("data")
            guard let arguments = data.arrayValue else { throw MessageQueueDecodingError("request: data is not a list") }
            return .request(
                Request(
                    hostID: try string("host_id"),
                    requestID: try string("request_id"),
                    kind: kind,
                    namespace: namespace,
                    rooms: try optionalStrings("rooms"),
                    except: object["except"] == nil ? [] : try strings("except"),
                    event: object["event"]?.stringValue,
                    arguments: arguments,
                    timeoutMilliseconds: timeout
                )
            )
        case "response":
            guard let kind = Request.Kind(rawValue: try string("type")) else { return nil }
            let payload: Response.Payload
            switch kind {
            case .fetchSockets:
                guard case .array(let values) = try binary("sockets") else { throw MessageQueueDecodingError("response: sockets is not a list") }
                guard values.count <= Limits.maxSocketsPerResponse else { throw MessageQueueDecodingError("response: too many sockets") }
                var sockets: [SocketRecord] = []
                sockets.reserveCapacity(values.count)
                for value in values {
                    guard let id = value["id"]?.stringValue, case .array(let rooms)? = value["rooms"] else {
                        throw MessageQueueDecodingError("response: a socket without id or rooms")
                    }
                    guard rooms.count <= Limits.maxRoomsPerRequest else { throw MessageQueueDecodingError("response: a socket in too many rooms") }
                    sockets.append(
                        SocketRecord(
                            id: id,
                            namespace: value["namespace"]?.stringValue ?? namespace,
                            handshake: value["handshake"] ?? .null,
                            rooms: rooms.compactMap(\.stringValue),
                            data: value["data"] ?? .null
                        )
                    )
                }
                payload = .sockets(sockets)
            case .fetchRooms:
                guard case .object(let values)? = object["rooms"] else { throw MessageQueueDecodingError("response: rooms is not an object") }
                guard values.count <= Limits.maxRoomsPerResponse else { throw MessageQueueDecodingError("response: too many rooms") }
                var rooms: [String: Int] = [:]
                for (room, count) in values {
                    guard let count = count.intValue, count >= 0 else { throw MessageQueueDecodingError("response: a room count is not a count") }
                    rooms[room] = count
                }
                payload = .rooms(rooms)
            case .broadcastAck:
                guard case .array(let values) = try binary("answers") else { throw MessageQueueDecodingError("response: answers is not a list") }
                guard values.count <= Limits.maxAnswersPerResponse else { throw MessageQueueDecodingError("response: too many answers") }
                var answers: [[SocketIOValue]] = []
                answers.reserveCapacity(values.count)
                for value in values {
                    guard let answer = value.arrayValue else { throw MessageQueueDecodingError("response: an answer is not a list") }
                    answers.append(answer)
                }
                payload = .answers(answers)
            case .serverSideEmit:
                guard case .array(let arguments) = try binary("args") else { throw MessageQueueDecodingError("response: args is not a list") }
                payload = .arguments(arguments)
            }
            return .response(
                Response(
                    hostID: try string("host_id"),
                    to: try string("to"),
                    requestID: try string("request_id"),
                    payload: payload,
                    complete: object["complete"]?.boolValue ?? true
                )
            )
        case "sockets_join", "sockets_leave", "disconnect_sockets":
            let action: SocketsOperation.Action
            switch method {
            case "sockets_join": action = .join(try strings("target_rooms"))
            case "sockets_leave": action = .leave(try strings("target_rooms"))
            default: action = .disconnect(close: object["close"]?.boolValue ?? false)
            }
            return .sockets(
                SocketsOperation(
                    hostID: try string("host_id"),
                    namespace: namespace,
                    rooms: try optionalStrings("rooms"),
                    except: object["except"] == nil ? [] : try strings("except"),
                    action: action
                )
            )
        case "server_side_emit":
            guard case .array(let arguments) = try binary("data") else { throw MessageQueueDecodingError("server_side_emit: data is not a list") }
            return .serverSideEmit(event: try string("event"), arguments: arguments, hostID: try string("host_id"))
        case "callback_miss":
            guard let id = object["id"]?.intValue else { throw MessageQueueDecodingError("callback_miss: id missing") }
            return .callbackMiss(hostID: try string("host_id"), from: try string("from"), sid: try string("sid"), namespace: namespace, id: id)
        default:
            return nil
        }
    }
}
