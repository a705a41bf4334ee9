#define _GNU_SOURCE
#include "CSystemShims.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

const uint32_t LR_EPOLLIN = EPOLLIN;
const uint32_t LR_EPOLLOUT = EPOLLOUT;
const uint32_t LR_EPOLLERR = EPOLLERR;
const uint32_t LR_EPOLLHUP = EPOLLHUP;
const uint32_t LR_EPOLLRDHUP = EPOLLRDHUP;

int lr_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int lr_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = token;
    int cop = op == 1 ? EPOLL_CTL_ADD : op == 2 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    return epoll_ctl(epfd, cop, fd, &ev);
}

int lr_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n;
    do {
        n = epoll_wait(epfd, evs, max, timeout_ms);
    } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        tokens[i] = evs[i].data.u64;
        events[i] = evs[i].events;
    }
    return n;
}

int lr_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int lr_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n;
    do { n = write(fd, &one, sizeof one); } while (n < 0 && errno == EINTR);
    /* EAGAIN means the counter is saturated: a wakeup is pending anyway. */
    if (n < 0 && errno == EAGAIN) return 0;
    return n == sizeof one ? 0 : -1;
}

int lr_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t n;
    do { n = read(fd, &value, sizeof value); } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) return 0;
    return n == sizeof value ? 0 : -1;
}

int lr_accept(int fd, struct sockaddr_storage *peer, socklen_t *peer_len) {
    int r;
    do {
        r = accept4(fd, (struct sockaddr *)peer, peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (r < 0 && errno == EINTR);
    return r;
}

int lr_socket_stream(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int lr_set_reuseaddr(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

int lr_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int lr_set_v6only(int fd, int on) {
    return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
}

ssize_t lr_send(int fd, const void *buf, size_t len) {
    ssize_t n;
    do { n = send(fd, buf, len, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

int lr_format_address(const struct sockaddr_storage *addr, char *out, size_t out_len) {
    char host[INET6_ADDRSTRLEN];
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        if (!inet_ntop(AF_INET, &a->sin_addr, host, sizeof host)) return -1;
        return snprintf(out, out_len, "%s:%u", host, ntohs(a->sin_port));
    }
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        if (!inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host)) return -1;
        return snprintf(out, out_len, "[%s]:%u", host, ntohs(a->sin6_port));
    }
    return snprintf(out, out_len, "unknown");
}

int lr_local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int lr_make_address(const char *host, int port, struct sockaddr_storage *out, socklen_t *out_len) {
    memset(out, 0, sizeof *out);
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *out_len = sizeof *a4;
        return AF_INET;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *out_len = sizeof *a6;
        return AF_INET6;
    }
    return -1;
}

int lr_shutdown_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    lr_ignore_sigpipe();
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int lr_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof info); } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) return 0;
    if (n != sizeof info) return -1;
    return (int)info.ssi_signo;
}

void lr_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

uint64_t lr_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long lr_getrandom(void *buf, size_t len) {
    return (long)getrandom(buf, len, 0);
}
