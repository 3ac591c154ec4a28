/** Linux errno numbers (x86_64 uses the asm-generic list) and the kernel-internal codes a syscall tracepoint can still see. */

const NAMES: readonly (string | undefined)[] = [
  undefined,
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD',
  'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  undefined /* 41: EWOULDBLOCK is EAGAIN */, 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI',
  'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', undefined /* 58: EDEADLOCK is EDEADLK */, 'EBFONT', 'ENOSTR',
  'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM',
  'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD',
  'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE',
  'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT',
  'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM',
  'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];

/** include/linux/errno.h: never meant for user space, but a sys_exit tracepoint sees them (e.g. ERESTARTSYS when a signal interrupts) and bpf(2) returns ENOTSUPP. */
const INTERNAL: readonly string[] = [
  'ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ENOIOCTLCMD', 'ERESTART_RESTARTBLOCK', 'EPROBE_DEFER', 'EOPENSTALE', 'ENOPARAM',
  '', 'EBADHANDLE', 'ENOTSYNC', 'EBADCOOKIE', 'ENOTSUPP', 'ETOOSMALL', 'ESERVERFAULT', 'EBADTYPE', 'EJUKEBOX', 'EIOCBQUEUED', 'ERECALLCONFLICT',
];
const INTERNAL_BASE = 512;

/** The largest errno the kernel returns as a negative value (MAX_ERRNO); anything below -4095 is a real result. */
const MAX_ERRNO = 4095;

const BY_NAME = new Map<string, number>([
  ['EWOULDBLOCK', 11],
  ['EDEADLOCK', 35],
  ['ENOTSUP', 95], // glibc's spelling of EOPNOTSUPP
  ...NAMES.flatMap((name, nr): [string, number][] => (name ? [[name, nr]] : [])),
  ...INTERNAL.flatMap((name, i): [string, number][] => (name ? [[name, INTERNAL_BASE + i]] : [])),
]);

/** The name of an errno number (positive), e.g. 1 -> "EPERM"; undefined for numbers Linux does not define. */
export function errnoByNumber(errno: number): string | undefined {
  if (errno >= INTERNAL_BASE) return INTERNAL[errno - INTERNAL_BASE] || undefined;
  return NAMES[errno];
}

/** The errno name for a syscall return value: -1 -> "EPERM"; undefined for successes and values that are not errors. */
export function errnoName(ret: number | bigint): string | undefined {
  const n = typeof ret === 'bigint' ? (ret < 0n && ret >= BigInt(-MAX_ERRNO) ? Number(ret) : 0) : ret;
  if (!Number.isInteger(n) || n >= 0 || n < -MAX_ERRNO) return undefined;
  return errnoByNumber(-n);
}

/** The errno number for a name ("EPERM" -> 1, aliases such as EWOULDBLOCK included), for filters like `ret=-EPERM`. */
export function errnoNumber(name: string): number | undefined {
  return BY_NAME.get(name.toUpperCase());
}
