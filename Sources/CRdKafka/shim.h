// Thin C shim over librdkafka (Debian librdkafka-dev 2.0.2): configuration and the
// non-variadic calls the Kafka backplane needs, with errors copied into caller buffers.
#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int CRdKafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen) {
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

/// An idempotent producer that keeps messages while brokers are away (message.timeout.ms=0).
static inline rd_kafka_t *CRdKafka_newProducer(const char *bootstrap, int maxQueued, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char queued[32];
    snprintf(queued, sizeof queued, "%d", maxQueued);
    if (CRdKafka_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
        CRdKafka_set(conf, "enable.idempotence", "true", err, errlen) ||
        CRdKafka_set(conf, "linger.ms", "1", err, errlen) ||
        CRdKafka_set(conf, "message.timeout.ms", "0", err, errlen) ||
        CRdKafka_set(conf, "queue.buffering.max.messages", queued, err, errlen) ||
        CRdKafka_set(conf, "reconnect.backoff.max.ms", "2000", err, errlen) ||
        CRdKafka_set(conf, "log_level", "0", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (handle == NULL) rd_kafka_conf_destroy(conf);  // rd_kafka_new owns conf only on success
    return handle;
}

/// A consumer that assigns partitions itself (no group rebalancing, no commits).
static inline rd_kafka_t *CRdKafka_newConsumer(const char *bootstrap, const char *group, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (CRdKafka_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
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

/// Produces one message (copied) with a key, so one publisher's messages share a partition.
/// 0 = queued, 1 = local queue full, -1 = other error.
static inline int CRdKafka_produce(rd_kafka_topic_t *topic, const void *payload, size_t length, const void *key, size_t keyLength,
                                   char *err, size_t errlen) {
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload, length, key, keyLength, NULL) == 0) return 0;
    rd_kafka_resp_err_t code = rd_kafka_last_error();
    snprintf(err, errlen, "%s", rd_kafka_err2str(code));
    return code == RD_KAFKA_RESP_ERR__QUEUE_FULL ? 1 : -1;
}

/// The partition count of a topic, or -1 with an error (brokers unreachable, no topic).
static inline int CRdKafka_partitionCount(rd_kafka_t *handle, rd_kafka_topic_t *topic, int timeoutMilliseconds, char *err, size_t errlen) {
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t code = rd_kafka_metadata(handle, 0, topic, &metadata, timeoutMilliseconds);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) { snprintf(err, errlen, "metadata: %s", rd_kafka_err2str(code)); return -1; }
    int count = -1;
    if (metadata->topic_cnt == 1) {
        if (metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "topic: %s", rd_kafka_err2str(metadata->topics[0].err));
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

/// Assigns partitions 0..<count of a topic, each from its end (only new messages).
static inline int CRdKafka_assignFromEnd(rd_kafka_t *handle, const char *topic, int count, char *err, size_t errlen) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count);
    for (int partition = 0; partition < count; partition++) {
        rd_kafka_topic_partition_list_add(list, topic, partition)->offset = RD_KAFKA_OFFSET_END;
    }
    rd_kafka_resp_err_t code = rd_kafka_assign(handle, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) { snprintf(err, errlen, "assign: %s", rd_kafka_err2str(code)); return -1; }
    return 0;
}

typedef struct { void *bytes; size_t length; } CRdKafka_Message;

/// Polls for one message. 1 = message (malloc'ed copy; free with CRdKafka_free),
/// 0 = nothing, -1 = an error event (text in err; the consumer keeps going).
static inline int CRdKafka_poll(rd_kafka_t *handle, int timeoutMilliseconds, CRdKafka_Message *out, char *err, size_t errlen) {
    rd_kafka_message_t *message = rd_kafka_consumer_poll(handle, timeoutMilliseconds);
    if (message == NULL) return 0;
    int result;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s", rd_kafka_message_errstr(message));
        result = message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ? 0 : -1;
    } else {
        out->length = message->len;
        out->bytes = malloc(message->len > 0 ? message->len : 1);
        if (message->len > 0) memcpy(out->bytes, message->payload, message->len);
        result = 1;
    }
    rd_kafka_message_destroy(message);
    return result;
}

static inline void CRdKafka_free(CRdKafka_Message *message) { free(message->bytes); message->bytes = NULL; }

#endif
