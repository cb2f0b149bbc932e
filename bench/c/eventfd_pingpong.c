/*
 * The physical limit of a cross-thread wake-up on this machine: two threads, two
 * eventfds, each thread blocked in epoll_wait until the other writes its eventfd.
 * Prints the mean round trip in ns. Built and run by bench/run.sh.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int ping_fd, pong_fd;
static long rounds;

static int watch(int fd) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("epoll");
        exit(1);
    }
    return ep;
}

static void wait_and_clear(int ep, int fd) {
    struct epoll_event ev;
    uint64_t v;
    while (epoll_wait(ep, &ev, 1, -1) != 1) {
    }
    if (read(fd, &v, sizeof v) != sizeof v) {
        perror("read");
        exit(1);
    }
}

static void kick(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) != sizeof one) {
        perror("write");
        exit(1);
    }
}

static void *ponger(void *arg) {
    (void) arg;
    int ep = watch(ping_fd);
    for (long i = 0; i < rounds; i++) {
        wait_and_clear(ep, ping_fd);
        kick(pong_fd);
    }
    close(ep);
    return NULL;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    rounds = argc > 1 ? atol(argv[1]) : 200000;
    long warmup = rounds / 10;
    ping_fd = eventfd(0, EFD_CLOEXEC);
    pong_fd = eventfd(0, EFD_CLOEXEC);
    rounds += warmup;
    pthread_t t;
    pthread_create(&t, NULL, ponger, NULL);
    int ep = watch(pong_fd);
    double start = 0;
    for (long i = 0; i < rounds; i++) {
        if (i == warmup) {
            start = now_ns();
        }
        kick(ping_fd);
        wait_and_clear(ep, pong_fd);
    }
    double elapsed = now_ns() - start;
    pthread_join(t, NULL);
    printf("%.1f\n", elapsed / (rounds - warmup));
    return 0;
}
