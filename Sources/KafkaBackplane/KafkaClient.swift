//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Kafka
import Backplane
import CRdKafka

/// The librdkafka calls of the Kafka backplane, in Swift (the C shim keeps only the
/// callbacks and their atomics). Errors come back as text.
enum KafkaClient {
    /// A configuration with `settings` applied.
    /// - Throws: ``BackplaneError`` naming the setting librdkafka refused.
    static func configuration(_ settings: KeyValuePairs<String, String>) throws(BackplaneError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var error = [CChar](repeating: 0, count: 512)
        for (name, value) in settings where rd_kafka_conf_set(conf, name, value, &error, error.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw BackplaneError(.fatal, "\(name): \(text(error))")
        }
        return conf
    }

    /// A consumer that assigns partitions itself (no group rebalancing, no commits).
    static func newConsumer(bootstrap: String, group: String, maxMessageBytes: Int) throws(BackplaneError) -> OpaquePointer {
        let conf = try configuration([
            "bootstrap.servers": bootstrap,
            "fetch.message.max.bytes": "\(maxMessageBytes)",
            "group.id": group,
            "enable.auto.commit": "false",
            "enable.partition.eof": "false",
            "reconnect.backoff.max.ms": "2000",
            "log_level": "0",
        ])
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &error, error.count) else {
            // rd_kafka_new owns the configuration only on success.
            rd_kafka_conf_destroy(conf)
            throw BackplaneError(.connection, "consumer: \(text(error))")
        }
        return handle
    }

    /// What ``produce(_:payload:key:)`` did.
    enum Produced: Equatable {
        case queued
        case queueFull
        case tooLarge
        case failed(String)
    }

    /// Produces one message (copied by librdkafka), with a key or none.
    static func produce(_ topic: OpaquePointer, payload: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?) -> Produced {
        let status = rd_kafka_produce(
            topic, -1 /* RD_KAFKA_PARTITION_UA: the partitioner decides */, RD_KAFKA_MSG_F_COPY,
            UnsafeMutableRawPointer(mutating: payload.baseAddress), payload.count, key?.baseAddress, key?.count ?? 0, nil
        )
        if status == 0 { return .queued }
        let code = rd_kafka_last_error()
        switch code {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: return .queueFull
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: return .tooLarge
        default: return .failed(String(cString: rd_kafka_err2str(code)))
        }
    }

    /// The producer's fatal error (idempotence broken for good), if any.
    static func fatalError(_ producer: OpaquePointer) -> String? {
        var error = [CChar](repeating: 0, count: 512)
        return rd_kafka_fatal_error(producer, &error, error.count) == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : text(error)
    }

    /// A topic's partition count.
    enum Partitions {
        case count(Int)
        /// Brokers unreachable, topic not there yet: may pass.
        case unavailable(String)
        /// Invalid topic, authorization: will not pass.
        case refused(String)
    }

    static func partitions(of topic: OpaquePointer, on handle: OpaquePointer, timeoutMilliseconds: Int32) -> Partitions {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(handle, 0, topic, &metadata, timeoutMilliseconds)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            return .unavailable("metadata: \(String(cString: rd_kafka_err2str(code)))")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt == 1, let entry = metadata.pointee.topics?.pointee else {
            return .unavailable("metadata without the topic")
        }
        switch entry.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            return entry.partition_cnt > 0 ? .count(Int(entry.partition_cnt)) : .unavailable("topic has no partitions yet")
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
            return .refused("topic: \(String(cString: rd_kafka_err2str(entry.err)))")
        default:
            return .unavailable("topic: \(String(cString: rd_kafka_err2str(entry.err)))")
        }
    }

    /// The end (high watermark) of each partition 0..<count of a topic, asked of the brokers.
    /// - Returns: the offsets, or the error text when a broker did not answer.
    static func endOffsets(_ handle: OpaquePointer, topic: String, count: Int, timeoutMilliseconds: Int32) -> Result<[Int64], BackplaneError> {
        var ends: [Int64] = []
        ends.reserveCapacity(count)
        for partition in 0..<count {
            var low: Int64 = 0
            var high: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(handle, topic, Int32(partition), &low, &high, timeoutMilliseconds)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                return .failure(BackplaneError(.connection, "partition \(partition) end: \(String(cString: rd_kafka_err2str(code)))"))
            }
            ends.append(high)
        }
        return .success(ends)
    }

    /// Assigns partitions 0..<`ends.count` of a topic, each from the given offset (its end,
    /// read before: messages published after that read are not missed, which assigning at
    /// `RD_KAFKA_OFFSET_END`, resolved later and asynchronously, would not promise).
    static func assign(_ handle: OpaquePointer, topic: String, from ends: [Int64]) throws(BackplaneError) {
        let list = rd_kafka_topic_partition_list_new(Int32(ends.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (partition, end) in ends.enumerated() {
            rd_kafka_topic_partition_list_add(list, topic, Int32(partition)).pointee.offset = end
        }
        try self.assign(handle, list)
    }

    /// Assigns partitions 0..<count of a topic after partitions were added (`previous` <
    /// count): the ones already assigned keep their positions and the new ones start at their
    /// beginning (they are younger than this node's subscription).
    static func assignAdded(_ handle: OpaquePointer, topic: String, count: Int, previous: Int) throws(BackplaneError) {
        let offsetEnd: Int64 = -1  // RD_KAFKA_OFFSET_END
        let offsetBeginning: Int64 = -2  // RD_KAFKA_OFFSET_BEGINNING
        let list = rd_kafka_topic_partition_list_new(Int32(count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in 0..<count {
            rd_kafka_topic_partition_list_add(list, topic, Int32(partition)).pointee.offset = offsetEnd
        }
        rd_kafka_position(handle, list)
        for partition in 0..<count {
            let entry = list.pointee.elems.advanced(by: partition)
            if partition >= previous {
                entry.pointee.offset = offsetBeginning
            } else if entry.pointee.offset < 0 {
                entry.pointee.offset = offsetEnd
            }
        }
        try self.assign(handle, list)
    }

    private static func assign(_ handle: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(BackplaneError) {
        let code = rd_kafka_assign(handle, list)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw BackplaneError(.connection, "assign: \(String(cString: rd_kafka_err2str(code)))")
        }
    }

    /// The text of a NUL-terminated C buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

#endif  // Kafka
