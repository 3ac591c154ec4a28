#!/usr/bin/env bash
# Prepares this machine for the test suite: tracefs mounted, a C compiler for the syscall helpers.
set -euo pipefail
if ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs nodev /sys/kernel/tracing
fi
if ! command -v gcc >/dev/null 2>&1; then
  echo "test-setup: installing gcc from Debian (needed to build the syscall helpers)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi
if ! command -v bpftool >/dev/null 2>&1; then
  echo "test-setup: installing bpftool from Debian (second source for the eBPF BTF tests and the no-leftovers check)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftool >/dev/null
fi
if ! command -v nats-server >/dev/null 2>&1 || ! command -v rsyslogd >/dev/null 2>&1; then
  echo "test-setup: installing nats-server and rsyslog from Debian (the output tests start private instances on 127.0.0.1)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server rsyslog >/dev/null
fi
if ! command -v prometheus >/dev/null 2>&1; then
  echo "test-setup: installing prometheus from Debian (a private instance scrapes --metrics in the tests)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1; then
  # runc, not crun: crun refuses hybrid cgroup hosts whose cgroup2 has a controller enabled
  echo "test-setup: installing podman, containerd and runc from Debian (the container-name tests run private instances and ask their APIs)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman containerd runc >/dev/null
fi
