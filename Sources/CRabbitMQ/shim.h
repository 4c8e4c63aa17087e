// Thin C shim over rabbitmq-c (Debian librabbitmq-dev 0.11). Swift cannot call the variadic
// amqp_login, and every broker call needs the same "check the RPC reply, copy its text"
// dance, so each step is one small function here that reports errors into a caller buffer.
// Nothing here keeps state: the connection handle is owned by a Swift class.
#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static inline void CRabbitMQ_copyBytes(char *err, size_t errlen, amqp_bytes_t text) {
    size_t n = text.len < errlen - 1 ? text.len : errlen - 1;
    memcpy(err, text.bytes, n);
    err[n] = 0;
}

/// Turns an RPC reply into 0 (ok) or -1 with a message.
static inline int CRabbitMQ_check(amqp_rpc_reply_t reply, const char *what, char *err, size_t errlen) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        snprintf(err, errlen, "%s: missing RPC reply", what);
        return -1;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(err, errlen, "%s: %s", what, amqp_error_string2(reply.library_error));
        return -1;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = (amqp_connection_close_t *)reply.reply.decoded;
            char text[256];
            CRabbitMQ_copyBytes(text, sizeof text, m->reply_text);
            snprintf(err, errlen, "%s: server closed the connection: %u %s", what, m->reply_code, text);
        } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = (amqp_channel_close_t *)reply.reply.decoded;
            char text[256];
            CRabbitMQ_copyBytes(text, sizeof text, m->reply_text);
            snprintf(err, errlen, "%s: server closed the channel: %u %s", what, m->reply_code, text);
        } else {
            snprintf(err, errlen, "%s: server exception 0x%08X", what, reply.reply.id);
        }
        return -1;
    }
    snprintf(err, errlen, "%s: unknown reply", what);
    return -1;
}

/// Opens a TCP connection, logs in (PLAIN) and opens channel 1. NULL on failure.
static inline amqp_connection_state_t CRabbitMQ_connect(const char *host, int port, const char *vhost, const char *user,
                                                        const char *password, int heartbeatSeconds, long timeoutMilliseconds,
                                                        char *err, size_t errlen) {
    amqp_connection_state_t conn = amqp_new_connection();
    if (conn == NULL) { snprintf(err, errlen, "cannot allocate a connection"); return NULL; }
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (socket == NULL) { snprintf(err, errlen, "cannot allocate a socket"); amqp_destroy_connection(conn); return NULL; }
    struct timeval tv = { timeoutMilliseconds / 1000, (timeoutMilliseconds % 1000) * 1000 };
    int status = amqp_socket_open_noblock(socket, host, port, &tv);
    if (status != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, amqp_error_string2(status));
        amqp_destroy_connection(conn);
        return NULL;
    }
    amqp_rpc_reply_t reply = amqp_login(conn, vhost, 0, 131072, heartbeatSeconds, AMQP_SASL_METHOD_PLAIN, user, password);
    if (CRabbitMQ_check(reply, "login", err, errlen) != 0) { amqp_destroy_connection(conn); return NULL; }
    amqp_channel_open(conn, 1);
    if (CRabbitMQ_check(amqp_get_rpc_reply(conn), "channel.open", err, errlen) != 0) {
        amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(conn);
        return NULL;
    }
    return conn;
}

/// Declares an exchange as kombu does for python-socketio's fanout one (durable=false,
/// auto_delete=false), or RabbitMQ refuses with PRECONDITION_FAILED; `type` is "fanout" (the
/// main channel) or "topic" (the other channels).
static inline int CRabbitMQ_declareExchange(amqp_connection_state_t conn, const char *exchange, const char *type, char *err, size_t errlen) {
    amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(type), 0, 0, 0, 0, amqp_empty_table);
    return CRabbitMQ_check(amqp_get_rpc_reply(conn), "exchange.declare", err, errlen);
}

/// Declares this node's queue (durable, so that what it holds survives a broker restart;
/// x-expires like kombu's; bounded by x-max-length, oldest dropped first, and by a message
/// TTL, so that an abandoned queue stops growing).
static inline int CRabbitMQ_declareQueue(amqp_connection_state_t conn, const char *queue, int expiresMilliseconds, int maxLength,
                                         int messageTTLMilliseconds, char *err, size_t errlen) {
    amqp_table_entry_t entries[3];
    entries[0].key = amqp_cstring_bytes("x-expires");
    entries[0].value.kind = AMQP_FIELD_KIND_I32;
    entries[0].value.value.i32 = expiresMilliseconds;
    entries[1].key = amqp_cstring_bytes("x-max-length");
    entries[1].value.kind = AMQP_FIELD_KIND_I32;
    entries[1].value.value.i32 = maxLength;
    entries[2].key = amqp_cstring_bytes("x-message-ttl");
    entries[2].value.kind = AMQP_FIELD_KIND_I32;
    entries[2].value.value.i32 = messageTTLMilliseconds;
    amqp_table_t arguments = { 3, entries };
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, arguments);
    return CRabbitMQ_check(amqp_get_rpc_reply(conn), "queue.declare", err, errlen);
}

/// Binds the queue to an exchange with a routing key.
static inline int CRabbitMQ_bind(amqp_connection_state_t conn, const char *queue, const char *exchange, const char *routingKey,
                                 char *err, size_t errlen) {
    amqp_queue_bind(conn, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes(routingKey), amqp_empty_table);
    return CRabbitMQ_check(amqp_get_rpc_reply(conn), "queue.bind", err, errlen);
}

/// Consumes the queue with manual acks (prefetch 1000).
static inline int CRabbitMQ_consume(amqp_connection_state_t conn, const char *queue, char *err, size_t errlen) {
    amqp_basic_qos(conn, 1, 0, 1000, 0);
    if (CRabbitMQ_check(amqp_get_rpc_reply(conn), "basic.qos", err, errlen) != 0) return -1;
    amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    return CRabbitMQ_check(amqp_get_rpc_reply(conn), "basic.consume", err, errlen);
}

/// Turns on publisher confirms.
static inline int CRabbitMQ_confirmSelect(amqp_connection_state_t conn, char *err, size_t errlen) {
    amqp_confirm_select(conn, 1);
    return CRabbitMQ_check(amqp_get_rpc_reply(conn), "confirm.select", err, errlen);
}

/// Publishes one message (text/plain UTF-8, as kombu does for python-socketio, persistent)
/// without waiting for its confirm: confirms are read by CRabbitMQ_pollConfirm, so that many
/// messages can be in flight. 0 = sent, -1 = error (the connection must be dropped).
static inline int CRabbitMQ_publishAsync(amqp_connection_state_t conn, const char *exchange, const char *routingKey, const void *body,
                                         size_t length, char *err, size_t errlen) {
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.content_type = amqp_cstring_bytes("text/plain");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 2;
    amqp_bytes_t bytes = { length, (void *)body };
    int status = amqp_basic_publish(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(routingKey), 0, 0, &props, bytes);
    if (status != AMQP_STATUS_OK) { snprintf(err, errlen, "basic.publish: %s", amqp_error_string2(status)); return -1; }
    return 0;
}

/// A publisher confirm: kind 1 = ack, 2 = nack; `multiple` covers every tag up to `tag`.
typedef struct { int kind; uint64_t tag; int multiple; } CRabbitMQ_Confirm;

/// Waits up to the timeout (0: just look) for one frame on a publishing connection. While
/// waiting, rabbitmq-c sends our heartbeat when it is due and fails when the broker's are
/// missing (its wait loop does both), so calling this regularly keeps an idle publisher's
/// connection alive. 1 = a confirm in *out, 0 = nothing of interest yet, -1 = error (the
/// channel or connection is gone; text in err).
static inline int CRabbitMQ_pollConfirm(amqp_connection_state_t conn, long timeoutMilliseconds, CRabbitMQ_Confirm *out,
                                        char *err, size_t errlen) {
    amqp_frame_t frame;
    struct timeval tv = { timeoutMilliseconds / 1000, (timeoutMilliseconds % 1000) * 1000 };
    amqp_maybe_release_buffers(conn);
    int status = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
    if (status == AMQP_STATUS_TIMEOUT) return 0;
    if (status != AMQP_STATUS_OK) { snprintf(err, errlen, "connection: %s", amqp_error_string2(status)); return -1; }
    if (frame.frame_type != AMQP_FRAME_METHOD) return 0;
    switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *m = (amqp_basic_ack_t *)frame.payload.method.decoded;
        out->kind = 1; out->tag = m->delivery_tag; out->multiple = m->multiple;
        return 1;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *m = (amqp_basic_nack_t *)frame.payload.method.decoded;
        out->kind = 2; out->tag = m->delivery_tag; out->multiple = m->multiple;
        return 1;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_channel_close_t *m = (amqp_channel_close_t *)frame.payload.method.decoded;
        char text[256];
        CRabbitMQ_copyBytes(text, sizeof text, m->reply_text);
        snprintf(err, errlen, "server closed the channel: %u %s", m->reply_code, text);
        return -1;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        amqp_connection_close_t *m = (amqp_connection_close_t *)frame.payload.method.decoded;
        char text[256];
        CRabbitMQ_copyBytes(text, sizeof text, m->reply_text);
        snprintf(err, errlen, "server closed the connection: %u %s", m->reply_code, text);
        return -1;
    }
    default:
        return 0;
    }
}

/// Waits up to the timeout for one message. 1 = message in *envelope (the caller copies what
/// it needs and frees it with amqp_destroy_envelope), 0 = timeout, -1 = error.
static inline int CRabbitMQ_receive(amqp_connection_state_t conn, long timeoutMilliseconds, amqp_envelope_t *envelope,
                                    char *err, size_t errlen) {
    struct timeval tv = { timeoutMilliseconds / 1000, (timeoutMilliseconds % 1000) * 1000 };
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t reply = amqp_consume_message(conn, envelope, &tv, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) return 0;
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        // A non-delivery frame (e.g. basic.cancel from a deleted queue): read and judge it.
        amqp_frame_t frame;
        if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) { snprintf(err, errlen, "connection lost"); return -1; }
        if (frame.frame_type == AMQP_FRAME_METHOD &&
            (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD || frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
             frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD)) {
            snprintf(err, errlen, "broker closed the consumer");
            return -1;
        }
        return 0;
    }
    if (CRabbitMQ_check(reply, "basic.consume", err, errlen) != 0) return -1;
    return 1;
}

/// Acknowledges a delivery once it has been handed over. 0 = ok.
static inline int CRabbitMQ_ack(amqp_connection_state_t conn, uint64_t deliveryTag, char *err, size_t errlen) {
    int status = amqp_basic_ack(conn, 1, deliveryTag, 0);
    if (status != AMQP_STATUS_OK) { snprintf(err, errlen, "basic.ack: %s", amqp_error_string2(status)); return -1; }
    return 0;
}

/// Closes and frees a connection (best effort: the broker may already be gone).
static inline void CRabbitMQ_close(amqp_connection_state_t conn) {
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

/// Frees a connection without talking to the broker (after an error).
static inline void CRabbitMQ_destroy(amqp_connection_state_t conn) { amqp_destroy_connection(conn); }

#endif
