// Thin C shim over librdkafka (Debian librdkafka-dev 2.0.2): configuration and the
// non-variadic calls the Kafka backplane needs, with errors copied into caller buffers.
#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int CRdKafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen) {
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

/// Failed deliveries, counted by the producer's delivery-report callback. librdkafka calls it
/// from whichever thread serves the producer's queue (rd_kafka_poll, rd_kafka_flush), so the
/// fields are only touched with atomic builtins. Owned by the Swift producer's owner, freed
/// after rd_kafka_destroy (no callback can run after that).
typedef struct { int64_t failed; int64_t tooLarge; int32_t lastError; } CRdKafka_Reports;

static void CRdKafka_onDelivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR || opaque == NULL) return;
    CRdKafka_Reports *reports = (CRdKafka_Reports *)opaque;
    __atomic_fetch_add(&reports->failed, 1, __ATOMIC_SEQ_CST);
    if (message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) __atomic_fetch_add(&reports->tooLarge, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&reports->lastError, (int32_t)message->err, __ATOMIC_SEQ_CST);
}

/// Takes (and zeroes) the counts since the last call; the last error's text in err.
static inline void CRdKafka_takeReports(CRdKafka_Reports *reports, int64_t *failed, int64_t *tooLarge, char *err, size_t errlen) {
    *failed = __atomic_exchange_n(&reports->failed, 0, __ATOMIC_SEQ_CST);
    *tooLarge = __atomic_exchange_n(&reports->tooLarge, 0, __ATOMIC_SEQ_CST);
    snprintf(err, errlen, "%s", rd_kafka_err2str((rd_kafka_resp_err_t)__atomic_load_n(&reports->lastError, __ATOMIC_SEQ_CST)));
}

/// An idempotent producer that keeps messages while brokers are away (message.timeout.ms=0),
/// with `message.max.bytes` set to the cluster's largest message, and failed deliveries
/// counted into `reports`.
static inline rd_kafka_t *CRdKafka_newProducer(const char *bootstrap, int maxQueued, int maxMessageBytes, CRdKafka_Reports *reports,
                                               char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char queued[32], size[32];
    snprintf(queued, sizeof queued, "%d", maxQueued);
    snprintf(size, sizeof size, "%d", maxMessageBytes);
    if (CRdKafka_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
        CRdKafka_set(conf, "enable.idempotence", "true", err, errlen) ||
        CRdKafka_set(conf, "linger.ms", "1", err, errlen) ||
        // Keyless messages (the main channel) would bypass the partitioner otherwise.
        CRdKafka_set(conf, "sticky.partitioning.linger.ms", "0", err, errlen) ||
        CRdKafka_set(conf, "message.timeout.ms", "0", err, errlen) ||
        CRdKafka_set(conf, "queue.buffering.max.messages", queued, err, errlen) ||
        CRdKafka_set(conf, "message.max.bytes", size, err, errlen) ||
        CRdKafka_set(conf, "reconnect.backoff.max.ms", "2000", err, errlen) ||
        CRdKafka_set(conf, "log_level", "0", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, reports);
    rd_kafka_conf_set_dr_msg_cb(conf, CRdKafka_onDelivery);
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (handle == NULL) rd_kafka_conf_destroy(conf);  // rd_kafka_new owns conf only on success
    return handle;
}

/// Every message of one producer goes to the same partition, whatever its key (the key
/// carries the channel): one publisher's messages keep their order on every channel. The
/// topic's opaque holds the producer's partition seed.
static int32_t CRdKafka_pinnedPartitioner(const rd_kafka_topic_t *topic, const void *key, size_t keyLength, int32_t partitionCount,
                                          void *topicOpaque, void *messageOpaque) {
    (void)topic; (void)key; (void)keyLength; (void)messageOpaque;
    return (int32_t)((uint32_t)(uintptr_t)topicOpaque % (uint32_t)partitionCount);
}

/// A producer's topic handle with the pinned partitioner; NULL on failure.
static inline rd_kafka_topic_t *CRdKafka_newPinnedTopic(rd_kafka_t *producer, const char *name, uint32_t seed) {
    rd_kafka_topic_conf_t *conf = rd_kafka_topic_conf_new();
    rd_kafka_topic_conf_set_partitioner_cb(conf, CRdKafka_pinnedPartitioner);
    rd_kafka_topic_conf_set_opaque(conf, (void *)(uintptr_t)seed);
    rd_kafka_topic_t *topic = rd_kafka_topic_new(producer, name, conf);
    if (topic == NULL) rd_kafka_topic_conf_destroy(conf);  // rd_kafka_topic_new owns conf only on success
    return topic;
}

/// The producer's fatal error (idempotence broken for good), if any: its code (0: none) and
/// text in err.
static inline int CRdKafka_fatalError(rd_kafka_t *handle, char *err, size_t errlen) {
    return (int)rd_kafka_fatal_error(handle, err, errlen);
}

/// Raises a fatal error on a producer (librdkafka's test hook).
static inline void CRdKafka_testFatalError(rd_kafka_t *handle) {
    rd_kafka_test_fatal_error(handle, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "raised by a test");
}

/// A consumer that assigns partitions itself (no group rebalancing, no commits).
static inline rd_kafka_t *CRdKafka_newConsumer(const char *bootstrap, const char *group, int maxMessageBytes, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char size[32];
    snprintf(size, sizeof size, "%d", maxMessageBytes);
    if (CRdKafka_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
        CRdKafka_set(conf, "fetch.message.max.bytes", size, err, errlen) ||
        CRdKafka_set(conf, "group.id", group, err, errlen) ||
        CRdKafka_set(conf, "enable.auto.commit", "false", err, errlen) ||
        CRdKafka_set(conf, "enable.partition.eof", "false", err, errlen) ||
        CRdKafka_set(conf, "reconnect.backoff.max.ms", "2000", err, errlen) ||
        CRdKafka_set(conf, "log_level", "0", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (handle == NULL) rd_kafka_conf_destroy(conf);
    return handle;
}

/// Produces one message (copied), with a key (the channel) or none (the main channel).
/// 0 = queued, 1 = local queue full, 2 = too large, -1 = other error.
static inline int CRdKafka_produce(rd_kafka_topic_t *topic, const void *payload, size_t length, const void *key, size_t keyLength,
                                   char *err, size_t errlen) {
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload, length, key, keyLength, NULL) == 0) return 0;
    rd_kafka_resp_err_t code = rd_kafka_last_error();
    snprintf(err, errlen, "%s", rd_kafka_err2str(code));
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) return 1;
    if (code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) return 2;
    return -1;
}

/// The partition count of a topic; -1 with an error that may pass (brokers unreachable, topic
/// not there yet), -2 with one that will not (invalid topic name, authorization).
static inline int CRdKafka_partitionCount(rd_kafka_t *handle, rd_kafka_topic_t *topic, int timeoutMilliseconds, char *err, size_t errlen) {
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t code = rd_kafka_metadata(handle, 0, topic, &metadata, timeoutMilliseconds);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) { snprintf(err, errlen, "metadata: %s", rd_kafka_err2str(code)); return -1; }
    int count = -1;
    if (metadata->topic_cnt == 1) {
        rd_kafka_resp_err_t topicError = metadata->topics[0].err;
        if (topicError != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "topic: %s", rd_kafka_err2str(topicError));
            if (topicError == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION || topicError == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                topicError == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
                rd_kafka_metadata_destroy(metadata);
                return -2;
            }
        } else {
            count = metadata->topics[0].partition_cnt;
            if (count == 0) snprintf(err, errlen, "topic has no partitions yet");
        }
    } else {
        snprintf(err, errlen, "metadata without the topic");
    }
    rd_kafka_metadata_destroy(metadata);
    return count > 0 ? count : -1;
}

/// Assigns partitions 0..<count of a topic. The first time (`previous` = 0) each starts at
/// its end (only new messages). When partitions were added (`previous` < count), the ones
/// already assigned keep their positions and the new ones start at their beginning (they
/// are younger than this node's subscription).
static inline int CRdKafka_assign(rd_kafka_t *handle, const char *topic, int count, int previous, char *err, size_t errlen) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count);
    for (int partition = 0; partition < count; partition++) {
        rd_kafka_topic_partition_list_add(list, topic, partition)->offset = RD_KAFKA_OFFSET_END;
    }
    if (previous > 0) {
        rd_kafka_position(handle, list);
        for (int partition = 0; partition < count; partition++) {
            rd_kafka_topic_partition_t *entry = &list->elems[partition];
            if (partition >= previous) entry->offset = RD_KAFKA_OFFSET_BEGINNING;
            else if (entry->offset < 0) entry->offset = RD_KAFKA_OFFSET_END;
        }
    }
    rd_kafka_resp_err_t code = rd_kafka_assign(handle, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) { snprintf(err, errlen, "assign: %s", rd_kafka_err2str(code)); return -1; }
    return 0;
}

/// librdkafka's mock cluster, in this process (tests): one broker on an ephemeral loopback
/// port, hosted by a handle of its own. The caller owns the returned handle and frees it
/// with CRdKafka_destroyMock (which destroys the cluster first).
typedef struct { rd_kafka_t *host; rd_kafka_mock_cluster_t *cluster; } CRdKafka_Mock;

static inline CRdKafka_Mock *CRdKafka_newMock(void) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (host == NULL) { rd_kafka_conf_destroy(conf); return NULL; }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(host, 1);
    if (cluster == NULL) { rd_kafka_destroy(host); return NULL; }
    CRdKafka_Mock *mock = (CRdKafka_Mock *)malloc(sizeof *mock);
    mock->host = host;
    mock->cluster = cluster;
    return mock;
}

static inline const char *CRdKafka_mockBootstrap(CRdKafka_Mock *mock) { return rd_kafka_mock_cluster_bootstraps(mock->cluster); }

static inline int CRdKafka_mockCreateTopic(CRdKafka_Mock *mock, const char *topic, int partitions) {
    return (int)rd_kafka_mock_topic_create(mock->cluster, topic, partitions, 1);
}

/// Makes metadata requests for `topic` fail with `code`.
static inline void CRdKafka_mockTopicError(CRdKafka_Mock *mock, const char *topic, int code) {
    rd_kafka_mock_topic_set_error(mock->cluster, topic, (rd_kafka_resp_err_t)code);
}

static inline void CRdKafka_destroyMock(CRdKafka_Mock *mock) {
    rd_kafka_mock_cluster_destroy(mock->cluster);
    rd_kafka_destroy(mock->host);
    free(mock);
}

#endif
