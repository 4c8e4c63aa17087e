//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// python-socketio's JSON message-queue format (`pubsub_manager.py`, ≥ 5.15.1), field for
/// field, with our extensions as methods python ignores (heartbeats, goodbyes, requests)
/// and fields it ignores (`seq`, `epoch`). See ``MessageQueueMessage`` for the messages.
public struct PythonJSONFormat: ClusterMessageFormat {
    public init() {}

    public var name: String { "python-json" }

    public func encode(_ message: MessageQueueMessage) -> ByteBuffer {
        message.encoded()
    }

    public func stamp(_ encoded: inout ByteBuffer, sequence: Int, epoch: String) {
        MessageQueueMessage.appendStamp(to: &encoded, sequence: sequence, epoch: epoch)
    }

    public func decode(_ bytes: ByteBuffer) throws(MessageQueueDecodingError) -> MessageQueueMessage? {
        try MessageQueueMessage.decode(bytes)
    }
}
