// Thin C shim over hiredis (Debian libhiredis-dev 0.14): only binary-safe, non-variadic
// entry points are used from Swift; the helpers read fields Swift cannot reach easily.
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

static inline int CHiredis_contextError(const redisContext *c) { return c == NULL ? -1 : c->err; }
static inline const char *CHiredis_contextErrorString(const redisContext *c) { return c == NULL ? "no context" : c->errstr; }
static inline int CHiredis_contextFD(const redisContext *c) { return c == NULL ? -1 : c->fd; }

/// Wakes a thread blocked reading this context's socket (used for shutdown).
static inline void CHiredis_shutdownFD(int fd) { if (fd >= 0) { shutdown(fd, SHUT_RDWR); } }

static inline redisContext *CHiredis_connect(const char *host, int port, long timeoutMilliseconds) {
    struct timeval tv;
    tv.tv_sec = timeoutMilliseconds / 1000;
    tv.tv_usec = (timeoutMilliseconds % 1000) * 1000;
    return redisConnectWithTimeout(host, port, tv);
}

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

#endif
