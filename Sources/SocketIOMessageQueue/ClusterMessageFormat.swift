//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// How cluster messages are written on the backplane: the seam between what the cluster
/// says (``MessageQueueMessage``) and the bytes a broker moves.
///
/// python-socketio's JSON format (``PythonJSONFormat``) is the first conformer: it is what
/// lets Flask-SocketIO workers and python emitters share a cluster with ours. Another
/// format (Node's adapters speak msgpack on per-namespace channels) conforms by choosing
/// its own bytes and channels; the cluster manager and the emitter only ever talk to this
/// protocol.
public protocol ClusterMessageFormat: Sendable {
    /// A short name for logs ("python-json").
    var name: String { get }

    /// The bytes of `message`, unstamped (see ``stamp(_:sequence:epoch:)``).
    func encode(_ message: MessageQueueMessage) -> ByteBuffer

    /// Adds a publisher's sequence number and epoch to an emit encoded by ``encode(_:)``.
    /// Separate from encoding so that a publisher encodes outside its lock and only stamps
    /// and enqueues under it (see ``MessageQueuePublisher``).
    func stamp(_ encoded: inout ByteBuffer, sequence: Int, epoch: String)

    /// Decodes a message.
    /// - Returns: `nil` for a well-formed message this version does not know (how a format
    ///   is extended: receivers skip what they do not understand).
    /// - Throws: ``MessageQueueDecodingError`` for bytes that are not a message.
    func decode(_ bytes: ByteBuffer) throws(MessageQueueDecodingError) -> MessageQueueMessage?

    /// The channel `message` travels on, given the cluster's main channel. The python
    /// format has one channel for everything; a format with per-namespace or per-node
    /// channels says so here.
    func channel(for message: MessageQueueMessage, mainChannel: String) -> String

    /// The channel only `hostID` subscribes to, where what is addressed to it goes
    /// (responses to its requests, acks of its emits): the nodes and the emitter both
    /// name it through this one definition.
    func replyChannel(mainChannel: String, hostID: String) -> String
}

extension ClusterMessageFormat {
    /// One channel for every message.
    public func channel(for message: MessageQueueMessage, mainChannel: String) -> String { mainChannel }

    /// `"<main channel>#<host id>"`.
    public func replyChannel(mainChannel: String, hostID: String) -> String { "\(mainChannel)#\(hostID)" }
}
