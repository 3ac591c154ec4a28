/*
 * ioperm at a steady rate until stdin closes: RATE calls per second, issued in 1 ms slices (absolute-time sleeps, so
 * the rate holds whatever the tracer costs). Starts calling at once (no handshake): the start-up and memory figures
 * need a workload that is already calling when the tracer is launched.
 *   paced [--cpu N] RATE
 */
#include "common.h"
#include <fcntl.h>
#include <poll.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int a = 1;
  if (argc > 2 && !strcmp(argv[1], "--cpu")) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(argv[2]), &set);
    sched_setaffinity(0, sizeof set, &set);
    a = 3;
  }
  if (argc - a < 1) { fprintf(stderr, "usage: paced [--cpu N] RATE\n"); return 2; }
  long rate = atol(argv[a]), per_ms = rate / 1000 > 0 ? rate / 1000 : 1;
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  printf("ready %d\n", getpid());
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  long issued = 0;
  long long t0 = now_ns();
  for (;;) {
    for (long i = 0; i < per_ms; i++, issued++) syscall(SYS_ioperm, 0x80L, 1L, 1L);
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      char buf[64];
      ssize_t n = read(0, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
    }
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000) { next.tv_nsec -= 1000000000; next.tv_sec++; }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  printf("{\"workload\":\"paced\",\"syscalls\":%ld,\"ns\":%lld}\n", issued, now_ns() - t0);
  return 0;
}
