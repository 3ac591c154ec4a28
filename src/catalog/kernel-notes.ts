/** What the kernel's build and lockdown change for a caller of each event: read by the event pages and by doctor. */

export interface KernelOptionNote {
  /** Kconfig symbol, e.g. CONFIG_X86_IOPL_IOPERM. */
  option: string;
  /** What callers get on a kernel built without it. */
  without: string;
}

export interface EventKernelNotes {
  options: KernelOptionNote[];
  /** What kernel lockdown changes for the caller. */
  lockdown?: string;
}

export const EVENT_KERNEL_NOTES: Readonly<Record<string, EventKernelNotes>> = {
  ioperm: {
    options: [
      {
        option: 'CONFIG_X86_IOPL_IOPERM',
        without: 'calls return -ENOSYS (-38) to every caller, root included; the tracepoints still exist, so Watchpost still sees every attempt',
      },
    ],
    lockdown: 'in integrity or confidentiality mode, turn_on=1 fails with -EPERM (-1) even for root with CAP_SYS_RAWIO (turn_on=0 is still allowed); lockdown is common on Secure Boot machines',
  },
  iopl: {
    options: [
      {
        option: 'CONFIG_X86_IOPL_IOPERM',
        without: 'calls return -ENOSYS (-38) to every caller, root included; the tracepoints still exist, so Watchpost still sees every attempt',
      },
    ],
    lockdown: 'in integrity or confidentiality mode, raising the level fails with -EPERM (-1) even for root with CAP_SYS_RAWIO; lockdown is common on Secure Boot machines',
  },
  ioctl: { options: [] },
  perf_event_open: {
    options: [
      {
        option: 'CONFIG_PERF_EVENTS',
        without: 'calls return -ENOSYS (-38) and the kernel has no syscalls:sys_enter_perf_event_open tracepoint to hook',
      },
    ],
  },
  userfaultfd: {
    options: [
      {
        option: 'CONFIG_USERFAULTFD',
        without: 'calls return -ENOSYS (-38) and the kernel has no syscalls:sys_enter_userfaultfd tracepoint to hook',
      },
    ],
  },
};
