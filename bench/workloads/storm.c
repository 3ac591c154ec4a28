/*
 * A storm of one syscall, as fast as possible: COUNT calls of ioperm(0x80, 1, 1) (ENOSYS here, but its tracepoints
 * fire) or ioctl(FIONREAD) on a pipe (fast, harmless). Prints exactly how many it issued. --hold: then stays alive until
 * stdin closes (the capacity benchmark replays its events while /proc still has it, as a live tracer would see it).
 *   storm [--now] [--cpu N] [--hold] ioperm|ioctl COUNT
 */
#include "common.h"
#include <sys/ioctl.h>

int main(int argc, char **argv) {
  int a = common_start(argc, argv), hold = 0;
  if (a < argc && !strcmp(argv[a], "--hold")) { hold = 1; a++; }
  if (argc - a < 2) { fprintf(stderr, "usage: storm [--now] [--cpu N] [--hold] ioperm|ioctl COUNT\n"); return 2; }
  const char *which = argv[a];
  long count = atol(argv[a + 1]), issued = 0;
  int fds[2];
  if (pipe(fds) != 0) { perror("pipe"); return 1; }
  int avail = 0;
  long long t0 = now_ns();
  if (!strcmp(which, "ioperm")) {
    for (; issued < count; issued++) syscall(SYS_ioperm, 0x80L, 1L, 1L);
  } else if (!strcmp(which, "ioctl")) {
    for (; issued < count; issued++) syscall(SYS_ioctl, (long)fds[0], (long)FIONREAD, (long)&avail);
  } else { fprintf(stderr, "storm: unknown syscall %s\n", which); return 2; }
  long long ns = now_ns() - t0;
  printf("{\"workload\":\"storm\",\"syscall\":\"%s\",\"syscalls\":%ld,\"ns\":%lld}\n", which, issued, ns);
  if (hold) {
    char line[64];
    while (fgets(line, sizeof line, stdin)) {}
  }
  return 0;
}
