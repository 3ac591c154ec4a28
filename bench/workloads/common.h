/*
 * Shared by the benchmark workloads: clock, 32-bit (int $0x80) calls, CPU pinning, the start handshake, the report.
 * Every workload prints "ready <pid>" and waits for a line on stdin (so a tracer can be attached to that pid first),
 * unless started with --now; at the end it prints one JSON line with what it issued and how long that took.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NR_IOPERM_I386 101

static inline long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long compat_call3(long nr, long a, long b, long c) {
  long ax = nr;
  __asm__ volatile("int $0x80" : "+a"(ax) : "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
  return ax;
}

/* Options every workload takes: --now (no handshake), --cpu N (pin). Returns the index of the first other arg. */
static inline int common_start(int argc, char **argv) {
  int now = 0, i = 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--now")) now = 1;
    else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(atoi(argv[++i]), &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
    } else break;
  }
  if (!now) {
    char line[64];
    printf("ready %d\n", getpid());
    if (!fgets(line, sizeof line, stdin)) exit(1);
  }
  return i;
}
