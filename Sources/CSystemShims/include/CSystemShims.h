#ifndef LEADROUTER_CSYSTEMSHIMS_H
#define LEADROUTER_CSYSTEMSHIMS_H
/*
 * What Glibc exports badly to Swift, as small prefixed C functions:
 *  - epoll: `struct epoll_event` is packed on x86-64, so Swift cannot build or read it safely;
 *    these wrappers take and return plain arrays (fd-sized 64-bit tokens + event masks).
 *  - eventfd, accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC, signalfd for SIGTERM/SIGINT,
 *    and the event-mask constants (macros/enums that import inconsistently).
 * Every function returns what the syscall returns (-1 and errno on failure).
 */
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

/* Event masks, mirrored from <sys/epoll.h>. */
extern const uint32_t LR_EPOLLIN;
extern const uint32_t LR_EPOLLOUT;
extern const uint32_t LR_EPOLLERR;
extern const uint32_t LR_EPOLLHUP;
extern const uint32_t LR_EPOLLRDHUP;

/* epoll_create1(EPOLL_CLOEXEC). */
int lr_epoll_create(void);
/* op: 1 add, 2 modify, 3 delete. `token` comes back from lr_epoll_wait for this fd. */
int lr_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/* Waits up to timeout_ms (-1 forever); fills tokens[i]/events[i]; returns the count (0..max). */
int lr_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms);

/* eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC). */
int lr_eventfd_create(void);
/* Adds 1 to the counter (wakes a waiter). Returns 0 or -1. */
int lr_eventfd_signal(int fd);
/* Resets the counter; returns 0 (also when it was already 0) or -1. */
int lr_eventfd_drain(int fd);

/* accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; fills `peer` (may be NULL). */
int lr_accept(int fd, struct sockaddr_storage *peer, socklen_t *peer_len);
/* socket(family, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0). */
int lr_socket_stream(int family);
/* Turns on SO_REUSEADDR (listeners) — returns setsockopt's result. */
int lr_set_reuseaddr(int fd);
/* Turns on TCP_NODELAY (responses leave at once). */
int lr_set_nodelay(int fd);
/* Sets IPV6_V6ONLY to `on`. */
int lr_set_v6only(int fd, int on);
/* send(..., MSG_NOSIGNAL): a peer that went away gives EPIPE, never SIGPIPE. */
ssize_t lr_send(int fd, const void *buf, size_t len);
/* Renders an IPv4/IPv6 address and port as text ("1.2.3.4:80", "[::1]:80"). */
int lr_format_address(const struct sockaddr_storage *addr, char *out, size_t out_len);
/* The local port a bound socket got (for port 0), or -1. */
int lr_local_port(int fd);
/* Fills `out` from a numeric IPv4/IPv6 host and a port; returns the family or -1 if not numeric. */
int lr_make_address(const char *host, int port, struct sockaddr_storage *out, socklen_t *out_len);

/* Blocks SIGTERM and SIGINT in the calling thread (threads created afterwards inherit it),
   ignores SIGPIPE, and returns a signalfd (non-blocking, close-on-exec) that reads them. */
int lr_shutdown_signalfd(void);
/* Reads one pending signal from a signalfd: its number, 0 if none is pending, -1 on error. */
int lr_signalfd_read(int fd);
/* Ignores SIGPIPE process-wide (TLS writes go through write(2), which could raise it). */
void lr_ignore_sigpipe(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lr_monotonic_ns(void);

/* getrandom(buf, len, 0) (<sys/random.h>, which Glibc's Swift module does not import):
   bytes from the kernel's CSPRNG; returns the count written or -1 and errno. */
long lr_getrandom(void *buf, size_t len);
#endif
