//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//
//
// The cluster wire format: python-socketio's JSON message-queue format (≥ 5.15.1,
// `pubsub_manager.py`), field for field, so that Flask-SocketIO workers and python
// `write_only` emitters share a cluster with ours:
//
//   {"method":"emit","event":"foo","data":["bar"],"binary":false,"namespace":"/",
//    "room":null,"skip_sid":null,"callback":null,"host_id":"<32 hex>"}
//   binary: "binary":true,"data":[[1,{"_placeholder":true,"num":0}],"dHdv"]
//   {"method":"disconnect","sid":…,"namespace":…,"host_id":…}
//   {"method":"enter_room"|"leave_room","sid":…,"room":…,"namespace":…,"host_id":…}
//   {"method":"close_room","room":…,"namespace":…,"host_id":…}
//   {"method":"callback","host_id":<origin>,"sid":…,"namespace":…,"id":N,"args":[…]}
//   our extensions (python-socketio ignores methods it does not know):
//   {"method":"heartbeat","host_id":…,"interval_ms":N}   node membership
//   {"method":"goodbye","host_id":…}                      a node stopping gracefully
//
// Defined once here and used by both the cluster manager and the emitter.
//===----------------------------------------------------------------------===//

import EngineIOParser
public import NIOCore
import OrderedCollections
public import SocketIOParser

/// One message of the cluster channel.
public enum MessageQueueMessage: Sendable, Hashable {
    /// An event for the members of `rooms` (everyone in the namespace when `nil`) minus
    /// `skip`. With `callback`, the recipient's ack goes back to the host `hostID`.
    case emit(Emit)
    case disconnect(sid: String, namespace: String, hostID: String)
    case enterRoom(sid: String, room: String, namespace: String, hostID: String)
    case leaveRoom(sid: String, room: String, namespace: String, hostID: String)
    case closeRoom(room: String, namespace: String, hostID: String)
    /// A client's ack for an emit made on host `hostID` (the addressee).
    case callback(hostID: String, sid: String, namespace: String, id: Int, arguments: [SocketIOValue])
    /// Our extension: node `hostID` is alive and beats every `intervalMilliseconds`
    /// (node membership; python-socketio ignores it).
    case heartbeat(hostID: String, intervalMilliseconds: Int)
    /// Our extension: node `hostID` is stopping gracefully.
    case goodbye(hostID: String)
    /// Our extension: a cluster-wide request from `hostID` (see ``Request``).
    case request(Request)
    /// Our extension: one node's answer to a request, for its origin.
    case response(Response)
    /// Our extension: `socketsJoin`, `socketsLeave` or `disconnectSockets` on every node.
    case sockets(SocketsOperation)
    /// Our extension: an event for the other nodes' server-side handlers (no ack).
    case serverSideEmit(event: String, arguments: [SocketIOValue], hostID: String)
    /// Our extension: node `from` got an emit with a callback for a sid it does not have;
    /// addressed to the emit's origin `hostID`.
    case callbackMiss(hostID: String, from: String, sid: String, namespace: String, id: Int)

    public struct Emit: Sendable, Hashable {
        public var event: String
        /// The event arguments, binary values in place.
        public var arguments: [SocketIOValue]
        public var namespace: String
        /// Target rooms (a sid is a room); `nil` means the whole namespace.
        public var rooms: [String]?
        public var skip: [String]
        /// `(sid, namespace, id)`: the ack of that sid goes back to `hostID` under `id`.
        public var callback: Callback?
        public var hostID: String
        /// Our extension: a per-publisher sequence number (`"seq"`), so that receivers can
        /// drop the duplicate a broker may deliver when a publish is retried after an outage.
        /// python-socketio neither sends nor reads it.
        public var sequence: Int?
        /// Our extension: the publisher's epoch (`"epoch"`), random per process start, so
        /// that a restarted publisher's new numbers are not taken for repeats of the old
        /// ones (see ``SequenceWindows``). python-socketio ignores it.
        public var epoch: String?

        public struct Callback: Sendable, Hashable {
            public var sid: String
            public var namespace: String
            public var id: Int
            public init(sid: String, namespace: String, id: Int) {
                self.sid = sid
                self.namespace = namespace
                self.id = id
            }
        }

        public init(
            event: String,
            arguments: [SocketIOValue],
            namespace: String = "/",
            rooms: [String]? = nil,
            skip: [String] = [],
            callback: Callback? = nil,
            hostID: String,
            sequence: Int? = nil,
            epoch: String? = nil
        ) {
            self.event = event
            self.arguments = arguments
            self.namespace = namespace
            self.rooms = rooms
            self.skip = skip
            self.callback = callback
            self.hostID = hostID
            self.sequence = sequence
            self.epoch = epoch
        }
    }

    /// The `host_id` field.
    public var hostID: String {
        switch self {
        case .emit(let emit): return emit.hostID
        case .disconnect(_, _, let host), .enterRoom(_, _, _, let host), .leaveRoom(_, _, _, let host),
            .closeRoom(_, _, let host), .callback(let host, _, _, _, _), .heartbeat(let host, _), .goodbye(let host),
            .serverSideEmit(_, _, let host), .callbackMiss(let host, _, _, _, _):
            return host
        case .request(let request): return request.hostID
        case .response(let response): return response.hostID
        case .sockets(let operation): return operation.hostID
        }
    }

    // MARK: Encoding

    /// The JSON bytes published on the channel.
    public func encoded() -> ByteBuffer {
        var object = OrderedDictionary<String, SocketIOValue>()
        switch self {
        case .emit(let emit):
            object["method"] = "emit"
            object["event"] = .string(emit.event)
            let (data, binary) = Self.withAttachments(.array(emit.arguments))
            object["data"] = data
            object["binary"] = .bool(binary)
            object["namespace"] = .string(emit.namespace)
            object["room"] = Self.oneOrMany(emit.rooms)
            object["skip_sid"] = Self.oneOrMany(emit.skip.isEmpty ? nil : emit.skip)
            if let callback = emit.callback {
                object["callback"] = [.string(callback.sid), .string(callback.namespace), .int(callback.id)]
            } else {
                object["callback"] = .null
            }
            object["host_id"] = .string(emit.hostID)
            if let sequence = emit.sequence { object["seq"] = .int(sequence) }
            if let epoch = emit.epoch { object["epoch"] = .string(epoch) }
        case .disconnect(let sid, let namespace, let host):
            object = ["method": "disconnect", "sid": .string(sid), "namespace": .string(namespace), "host_id": .string(host)]
        case .enterRoom(let sid, let room, let namespace, let host):
            object = [
                "method": "enter_room", "sid": .string(sid), "room": .string(room), "namespace": .string(namespace),
                "host_id": .string(host),
            ]
        case .leaveRoom(let sid, let room, let namespace, let host):
            object = [
                "method": "leave_room", "sid": .string(sid), "room": .string(room), "namespace": .string(namespace),
                "host_id": .string(host),
            ]
        case .closeRoom(let room, let namespace, let host):
            object = ["method": "close_room", "room": .string(room), "namespace": .string(namespace), "host_id": .string(host)]
        case .callback(let host, let sid, let namespace, let id, let arguments):
            object = [
                "method": "callback", "host_id": .string(host), "sid": .string(sid), "namespace": .string(namespace),
                "id": .int(id), "args": .array(arguments),
            ]
        case .heartbeat(let host, let interval):
            object = ["method": "heartbeat", "host_id": .string(host), "interval_ms": .int(interval)]
        case .goodbye(let host):
            object = ["method": "goodbye", "host_id": .string(host)]
        case .request, .response, .sockets, .serverSideEmit, .callbackMiss:
            self.encodeCluster(into: &object)
        }
        var buffer = ByteBuffer()
        JSONWriter.write(.object(object), into: &buffer)
        return buffer
    }

    /// Appends the publisher stamp (`"seq"`, `"epoch"`) to an emit encoded without one.
    ///
    /// `encoded()` writes one JSON object, so its last byte is the closing brace: the stamp
    /// goes in its place. This lets a publisher encode outside its lock and only stamp and
    /// enqueue under it (``MessageQueuePublisher``). Same bytes as encoding with the fields set.
    static func appendStamp(to encoded: inout ByteBuffer, sequence: Int, epoch: String) {
        encoded.moveWriterIndex(to: encoded.writerIndex - 1)
        encoded.writeString(",\"seq\":\(sequence),\"epoch\":")
        JSONWriter.write(.string(epoch), into: &encoded)
        encoded.writeString("}")
    }

    private static func oneOrMany(_ values: [String]?) -> SocketIOValue {
        guard let values else { return .null }
        if values.count == 1 { return .string(values[0]) }
        return .array(values.map { .string($0) })
    }

    // MARK: Decoding

    /// Decodes a channel message.
    /// - Throws: ``MessageQueueDecodingError`` for non-JSON, missing or ill-typed fields.
    /// - Returns: `nil` for a well-formed message with a method this version does not know
    ///   (python receivers ignore those too; it is how the format is extended).
    public static func decode(_ bytes: ByteBuffer) throws(MessageQueueDecodingError) -> MessageQueueMessage? {
        let value: SocketIOValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw MessageQueueDecodingError("not JSON")
        }
        guard case .object(let object) = value else { throw MessageQueueDecodingError("not a JSON object") }
        guard let method = object["method"]?.stringValue else { throw MessageQueueDecodingError("no method") }
        func string(_ key: String) throws(MessageQueueDecodingError) -> String {
            guard let value = object[key]?.stringValue else { throw MessageQueueDecodingError("\(method): \(key) missing or not a string") }
            return value
        }
        let host = object["host_id"]?.stringValue ?? ""
        let namespace = object["namespace"]?.stringValue ?? "/"
        switch method {
        case "emit":
            let event = try string("event")
            guard let data = object["data"] else { throw MessageQueueDecodingError("emit: data missing") }
            var arguments: [SocketIOValue]
            if object["binary"]?.boolValue == true {
                guard case .array(let parts) = data, let first = parts.first else {
                    throw MessageQueueDecodingError("emit: binary data is not [args, attachments...]")
                }
                var attachments: [ByteBuffer] = []
                for part in parts.dropFirst() {
                    guard let text = part.stringValue, let bytes = Base64Text.decode(text) else {
                        throw MessageQueueDecodingError("emit: attachment is not base64")
                    }
                    attachments.append(bytes)
                }
                // `reconstruct` applies the Socket.IO decoder's rule to backplane messages too:
                // each of `0..<attachments` used exactly once, so that a forged message cannot
                // make every node copy one attachment many times.
                let rebuilt: SocketIOValue
                do {
                    rebuilt = try SocketIOPacketEncoder.reconstruct(first, attachments: attachments)
                } catch {
                    throw MessageQueueDecodingError("emit: placeholders are not each attachment exactly once")
                }
                arguments = rebuilt.arrayValue ?? [rebuilt]
            } else {
                // ≥ 5.15.1 always sends a list of arguments.
                arguments = data.arrayValue ?? [data]
            }
            let callback: Emit.Callback?
            if case .array(let parts) = object["callback"] ?? .null {
                guard parts.count == 3, let sid = parts[0].stringValue, let ns = parts[1].stringValue, let id = parts[2].intValue else {
                    throw MessageQueueDecodingError("emit: callback is not [sid, namespace, id]")
                }
                callback = Emit.Callback(sid: sid, namespace: ns, id: id)
            } else {
                callback = nil
            }
            return .emit(
                Emit(
                    event: event,
                    arguments: arguments,
                    namespace: namespace,
                    rooms: try Self.strings(object["room"], field: "room"),
                    skip: try Self.strings(object["skip_sid"], field: "skip_sid") ?? [],
                    callback: callback,
                    hostID: host,
                    sequence: object["seq"]?.intValue,
                    epoch: object["epoch"]?.stringValue
                )
            )
        case "disconnect":
            return .disconnect(sid: try string("sid"), namespace: namespace, hostID: host)
        case "enter_room":
            return .enterRoom(sid: try string("sid"), room: try string("room"), namespace: namespace, hostID: host)
        case "leave_room":
            return .leaveRoom(sid: try string("sid"), room: try string("room"), namespace: namespace, hostID: host)
        case "close_room":
            return .closeRoom(room: try string("room"), namespace: namespace, hostID: host)
        case "callback":
            guard let id = object["id"]?.intValue else { throw MessageQueueDecodingError("callback: id missing") }
            return .callback(
                hostID: try string("host_id"),
                sid: try string("sid"),
                namespace: namespace,
                id: id,
                arguments: object["args"]?.arrayValue ?? []
            )
        case "heartbeat":
            guard let interval = object["interval_ms"]?.intValue, interval > 0 else {
                throw MessageQueueDecodingError("heartbeat: interval_ms missing or not positive")
            }
            return .heartbeat(hostID: try string("host_id"), intervalMilliseconds: interval)
        case "goodbye":
            return .goodbye(hostID: try string("host_id"))
        default:
            return try Self.decodeCluster(method: method, object)
        }
    }

    private static func strings(_ value: SocketIOValue?, field: String) throws(MessageQueueDecodingError) -> [String]? {
        switch value {
        case nil, .null?: return nil
        case .string(let single)?: return [single]
        case .array(let values)?:
            var result: [String] = []
            for element in values {
                guard let text = element.stringValue else { throw MessageQueueDecodingError("\(field) holds a non-string") }
                result.append(text)
            }
            return result
        default:
            throw MessageQueueDecodingError("\(field) is neither null, a string nor a list")
        }
    }
}

/// A channel message that is not a valid cluster message.
public struct MessageQueueDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Base64 for attachments: standard alphabet with padding, as Python's `b64encode`.
enum Base64Text {
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        Base64.encodeToString(bytes)
    }

    static func decode(_ text: String) -> ByteBuffer? {
        Base64.decode(text)
    }
}
