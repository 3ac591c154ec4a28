#!/usr/bin/env bash
# Installs the peer tracers the benchmark compares against, from Debian, when they are missing and apt works.
# Never fails the benchmark: a peer that cannot be installed is skipped (and the report says so).
set -u
missing=()
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
command -v bpftrace >/dev/null 2>&1 || missing+=(bpftrace)
command -v trace-cmd >/dev/null 2>&1 || missing+=(trace-cmd)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "bench/setup: cannot install ${missing[*]} (needs root and apt-get); those peers are skipped" >&2
  exit 0
fi
echo "bench/setup: installing ${missing[*]} from Debian" >&2
if ! DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  timeout 120 apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "bench/setup: apt-get install ${missing[*]} failed; those peers are skipped" >&2
fi
exit 0
