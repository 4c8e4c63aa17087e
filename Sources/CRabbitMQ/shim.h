// C shim over rabbitmq-c (Debian librabbitmq-dev 0.11): only what needs C, the login
// (Swift cannot call the variadic amqp_login) and the decoding of a failed RPC reply (a
// union of server methods), errors reported into a caller buffer. Every other call is made
// from Swift (AMQPConnection.swift). Nothing here keeps state.
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

#endif
