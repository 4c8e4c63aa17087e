//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Size limits shared by the transports.
public enum BackplaneLimits {
    /// The JSON envelope around an emit's arguments (method, event, namespace, rooms, skip,
    /// callback, host id, seq, epoch), generously.
    public static let envelopeBytes = 64 << 10

    /// The largest channel message a node publishes or accepts for a server whose largest
    /// client packet is `maxPayload` bytes: binary attachments travel as base64 (4/3), plus
    /// the envelope. Larger broadcasts are refused loudly (counted and logged) rather than
    /// handed to a broker that would drop or refuse them.
    public static func maxMessageBytes(maxPayload: Int) -> Int {
        maxPayload / 3 * 4 + 4 + envelopeBytes
    }

    /// For the default `maxPayload` of 1,000,000 bytes (Node's `maxHttpBufferSize`).
    public static let defaultMaxMessageBytes = maxMessageBytes(maxPayload: 1_000_000)
}
