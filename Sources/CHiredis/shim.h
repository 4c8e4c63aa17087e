// Thin C shim over hiredis (Debian libhiredis-dev 0.14): only binary-safe, non-variadic
// entry points are used from Swift; the helpers read fields Swift cannot reach easily.
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

static inline int CHiredis_contextError(const redisContext *c) { return c == NULL ? -1 : c->err; }
static inline const char *CHiredis_contextErrorString(const redisContext *c) { return c == NULL ? "no context" : c->errstr; }
static inline int CHiredis_contextFD(const redisContext *c) { return c == NULL ? -1 : c->fd; }

/// Blocks SIGPIPE on the calling thread. hiredis writes with write(2), so a write to a
/// connection Redis has closed (it closes on an oversized argument) would raise SIGPIPE and
/// kill the process; blocked on the thread that owns the connection, the write just fails
/// with EPIPE and the connection is dropped like any other failed one. NIO's own sockets
/// are unaffected (they never raise it).
static inline void CHiredis_blockSIGPIPEOnThisThread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/// Wakes a thread blocked reading this context's socket (used for shutdown).
static inline void CHiredis_shutdownFD(int fd) { if (fd >= 0) { shutdown(fd, SHUT_RDWR); } }

static inline redisContext *CHiredis_connect(const char *host, int port, long timeoutMilliseconds) {
    struct timeval tv;
    tv.tv_sec = timeoutMilliseconds / 1000;
    tv.tv_usec = (timeoutMilliseconds % 1000) * 1000;
    return redisConnectWithTimeout(host, port, tv);
}

/// Sets the socket's send and receive timeouts; 0 means none (block until data).
static inline int CHiredis_setTimeout(redisContext *c, long timeoutMilliseconds) {
    struct timeval tv;
    tv.tv_sec = timeoutMilliseconds / 1000;
    tv.tv_usec = (timeoutMilliseconds % 1000) * 1000;
    return redisSetTimeout(c, tv);
}

static inline redisReply *CHiredis_command(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

static inline int CHiredis_getReply(redisContext *c, redisReply **reply) {
    return redisGetReply(c, (void **)reply);
}

/// Queues a command and writes it out (without reading a reply). REDIS_OK or REDIS_ERR.
static inline int CHiredis_send(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    if (redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK) return REDIS_ERR;
    int done = 0;
    do {
        if (redisBufferWrite(c, &done) != REDIS_OK) return REDIS_ERR;
    } while (!done);
    return REDIS_OK;
}

/// A reply already read into the context's buffer, without I/O: REDIS_OK with *reply NULL
/// when there is none yet, REDIS_ERR on a protocol error.
static inline int CHiredis_bufferedReply(redisContext *c, redisReply **reply) {
    *reply = NULL;
    return redisGetReplyFromReader(c, (void **)reply);
}

/// Waits up to the timeout for the socket to be readable (or closed): 1 ready, 0 not yet,
/// -1 error.
static inline int CHiredis_waitReadable(int fd, int timeoutMilliseconds) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    int ready = poll(&p, 1, timeoutMilliseconds);
    if (ready < 0 && errno == EINTR) return 0;
    return ready > 0 ? 1 : ready;
}

/// Reads what the socket holds into the context's buffer (one read). REDIS_OK or REDIS_ERR
/// (connection closed or failed).
static inline int CHiredis_read(redisContext *c) { return redisBufferRead(c); }

#endif
