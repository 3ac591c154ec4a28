/*
 * Rare target among noise: CALLS getppid calls with one ioperm every EVERY calls (64-bit), and with "compat" one
 * more ioperm through int $0x80 at the same points. What a tracer of ioperm costs a program that rarely calls it.
 *   rare [--now] [--cpu N] CALLS EVERY [compat]
 */
#include "common.h"

int main(int argc, char **argv) {
  int a = common_start(argc, argv);
  if (argc - a < 2) { fprintf(stderr, "usage: rare [--now] [--cpu N] CALLS EVERY [compat]\n"); return 2; }
  long calls = atol(argv[a]), every = atol(argv[a + 1]);
  int compat = argc - a > 2 && !strcmp(argv[a + 2], "compat");
  long targets = 0, compat_targets = 0;
  long long t0 = now_ns();
  for (long i = 1; i <= calls; i++) {
    syscall(SYS_getppid);
    if (i % every == 0) {
      syscall(SYS_ioperm, 0x80L, 1L, 1L);
      targets++;
      if (compat) { compat_call3(NR_IOPERM_I386, 0x80, 1, 1); compat_targets++; }
    }
  }
  long long ns = now_ns() - t0;
  printf("{\"workload\":\"rare\",\"calls\":%ld,\"targets\":%ld,\"compatTargets\":%ld,\"syscalls\":%ld,\"ns\":%lld}\n", calls,
         targets, compat_targets, calls + targets + compat_targets, ns);
  return 0;
}
