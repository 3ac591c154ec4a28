/** ioctl request codes: the _IOC fields every request carries, and the names of the requests worth recognising on sight. */

export type IoctlDirection = 'none' | 'write' | 'read' | 'read-write';

export interface IoctlRequest {
  /** The 32-bit request as the kernel sees it (ioctl's cmd is an unsigned int). */
  code: number;
  /** _IOC_DIR: which way the argument struct travels, seen from user space. */
  direction: IoctlDirection;
  /** _IOC_TYPE: the driver's "magic" byte, e.g. 0x54 'T' for terminals. */
  type: number;
  /** _IOC_NR: the request number within the driver. */
  nr: number;
  /** _IOC_SIZE: bytes of the argument struct (0 for legacy requests that predate _IOC). */
  size: number;
  /** A well-known name, e.g. TIOCSTI, when the table below has one. */
  name?: string;
}

// x86_64 (asm-generic) layout: nr bits 0-7, type 8-15, size 16-29, direction 30-31.
const NONE = 0;
const WRITE = 1;
const READ = 2;
const DIRECTIONS: readonly IoctlDirection[] = ['none', 'write', 'read', 'read-write'];
const MACROS = ['_IO', '_IOW', '_IOR', '_IOWR'] as const;

const ioc = (dir: number, type: number, nr: number, size: number): number =>
  ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
const io = (type: number, nr: number) => ioc(NONE, type, nr, 0);
const ior = (type: number, nr: number, size: number) => ioc(READ, type, nr, size);
const iow = (type: number, nr: number, size: number) => ioc(WRITE, type, nr, size);
const iowr = (type: number, nr: number, size: number) => ioc(READ | WRITE, type, nr, size);

const T = 0x54; // 'T'
const KVMIO = 0xae;
const PERF = 0x24; // '$'
const UFFDIO = 0xaa;
const BLK = 0x12;
const LOOP = 0x4c; // 'L'
const NSIO = 0xb7;
const SECCOMP = 0x21; // '!'

/** One name per code. Where two drivers share a code the terminal/common meaning wins (the fd's device decides in truth). */
const TABLE: readonly (readonly [string, number])[] = [
  // Terminals (asm-generic/ioctls.h); TIOCSTI pushes bytes into another terminal's input: a classic injection vector.
  ['TCGETS', 0x5401], ['TCSETS', 0x5402], ['TCSETSW', 0x5403], ['TCSETSF', 0x5404],
  ['TCGETA', 0x5405], ['TCSETA', 0x5406], ['TCSETAW', 0x5407], ['TCSETAF', 0x5408],
  ['TCSBRK', 0x5409], ['TCXONC', 0x540a], ['TCFLSH', 0x540b], ['TIOCEXCL', 0x540c], ['TIOCNXCL', 0x540d],
  ['TIOCSCTTY', 0x540e], ['TIOCGPGRP', 0x540f], ['TIOCSPGRP', 0x5410], ['TIOCOUTQ', 0x5411],
  ['TIOCSTI', 0x5412], ['TIOCGWINSZ', 0x5413], ['TIOCSWINSZ', 0x5414],
  ['TIOCMGET', 0x5415], ['TIOCMBIS', 0x5416], ['TIOCMBIC', 0x5417], ['TIOCMSET', 0x5418],
  ['TIOCGSOFTCAR', 0x5419], ['TIOCSSOFTCAR', 0x541a], ['FIONREAD', 0x541b], ['TIOCLINUX', 0x541c],
  ['TIOCCONS', 0x541d], ['TIOCGSERIAL', 0x541e], ['TIOCSSERIAL', 0x541f], ['TIOCPKT', 0x5420],
  ['FIONBIO', 0x5421], ['TIOCNOTTY', 0x5422], ['TIOCSETD', 0x5423], ['TIOCGETD', 0x5424],
  ['TCSBRKP', 0x5425], ['TIOCSBRK', 0x5427], ['TIOCCBRK', 0x5428], ['TIOCGSID', 0x5429],
  ['TCGETS2', ior(T, 0x2a, 44)], ['TCSETS2', iow(T, 0x2b, 44)],
  ['TIOCGPTN', ior(T, 0x30, 4)], ['TIOCSPTLCK', iow(T, 0x31, 4)], ['TIOCGDEV', ior(T, 0x32, 4)],
  ['TIOCSIG', iow(T, 0x36, 4)], ['TIOCVHANGUP', 0x5437], ['TIOCGPKT', ior(T, 0x38, 4)],
  ['TIOCGPTLCK', ior(T, 0x39, 4)], ['TIOCGEXCL', ior(T, 0x40, 4)], ['TIOCGPTPEER', io(T, 0x41)],
  ['FIONCLEX', 0x5450], ['FIOCLEX', 0x5451], ['FIOASYNC', 0x5452], ['TIOCSERGETLSR', 0x5459], ['FIOQSIZE', 0x5460],
  // Console and keyboard (linux/kd.h, linux/vt.h): KDADDIO..KDDISABIO hand I/O ports to a process via the console.
  ['KIOCSOUND', 0x4b2f], ['KDMKTONE', 0x4b30], ['KDGETLED', 0x4b31], ['KDSETLED', 0x4b32],
  ['KDADDIO', 0x4b34], ['KDDELIO', 0x4b35], ['KDENABIO', 0x4b36], ['KDDISABIO', 0x4b37],
  ['KDSETMODE', 0x4b3a], ['KDGETMODE', 0x4b3b], ['KDGKBMODE', 0x4b44], ['KDSKBMODE', 0x4b45],
  ['VT_OPENQRY', 0x5600], ['VT_GETSTATE', 0x5603], ['VT_ACTIVATE', 0x5606], ['VT_WAITACTIVE', 0x5607],
  // Sockets and interfaces (linux/sockios.h, linux/if_tun.h).
  ['FIOSETOWN', 0x8901], ['SIOCSPGRP', 0x8902], ['FIOGETOWN', 0x8903], ['SIOCGPGRP', 0x8904],
  ['SIOCATMARK', 0x8905], ['SIOCGSTAMP_OLD', 0x8906], ['SIOCADDRT', 0x890b], ['SIOCDELRT', 0x890c],
  ['SIOCGIFNAME', 0x8910], ['SIOCGIFCONF', 0x8912], ['SIOCGIFFLAGS', 0x8913], ['SIOCSIFFLAGS', 0x8914],
  ['SIOCGIFADDR', 0x8915], ['SIOCSIFADDR', 0x8916], ['SIOCGIFNETMASK', 0x891b], ['SIOCSIFNETMASK', 0x891c],
  ['SIOCGIFMTU', 0x8921], ['SIOCSIFMTU', 0x8922], ['SIOCSIFNAME', 0x8923], ['SIOCSIFHWADDR', 0x8924],
  ['SIOCGIFHWADDR', 0x8927], ['SIOCGIFINDEX', 0x8933], ['SIOCETHTOOL', 0x8946],
  ['SIOCBRADDBR', 0x89a0], ['SIOCBRDELBR', 0x89a1],
  ['TUNSETIFF', iow(T, 202, 4)], ['TUNSETPERSIST', iow(T, 203, 4)],
  // Files (linux/fs.h): FS_IOC_SETFLAGS is chattr, e.g. making a planted file immutable.
  ['FIBMAP', io(0x00, 1)], ['FIGETBSZ', io(0x00, 2)],
  ['FS_IOC_GETFLAGS', ior(0x66, 1, 8)], ['FS_IOC_SETFLAGS', iow(0x66, 2, 8)],
  ['FIFREEZE', iowr(0x58, 119, 4)], ['FITHAW', iowr(0x58, 120, 4)], ['FICLONE', iow(0x94, 9, 4)],
  // Block devices (linux/fs.h).
  ['BLKROSET', io(BLK, 93)], ['BLKROGET', io(BLK, 94)], ['BLKRRPART', io(BLK, 95)], ['BLKGETSIZE', io(BLK, 96)],
  ['BLKFLSBUF', io(BLK, 97)], ['BLKRASET', io(BLK, 98)], ['BLKRAGET', io(BLK, 99)], ['BLKSSZGET', io(BLK, 104)],
  ['BLKPG', io(BLK, 105)], ['BLKBSZGET', ior(BLK, 112, 8)], ['BLKBSZSET', iow(BLK, 113, 8)],
  ['BLKGETSIZE64', ior(BLK, 114, 8)], ['BLKDISCARD', io(BLK, 119)], ['BLKSECDISCARD', io(BLK, 125)],
  ['BLKZEROOUT', io(BLK, 127)],
  // Loop devices (linux/loop.h): attaching a file as a block device, a step in many container escapes.
  ['LOOP_SET_FD', io(LOOP, 0x00)], ['LOOP_CLR_FD', io(LOOP, 0x01)], ['LOOP_SET_STATUS', io(LOOP, 0x02)],
  ['LOOP_GET_STATUS', io(LOOP, 0x03)], ['LOOP_SET_STATUS64', io(LOOP, 0x04)], ['LOOP_GET_STATUS64', io(LOOP, 0x05)],
  ['LOOP_CHANGE_FD', io(LOOP, 0x06)], ['LOOP_SET_CAPACITY', io(LOOP, 0x07)], ['LOOP_SET_DIRECT_IO', io(LOOP, 0x08)],
  ['LOOP_SET_BLOCK_SIZE', io(LOOP, 0x09)], ['LOOP_CONFIGURE', io(LOOP, 0x0a)],
  ['LOOP_CTL_ADD', io(LOOP, 0x80)], ['LOOP_CTL_REMOVE', io(LOOP, 0x81)], ['LOOP_CTL_GET_FREE', io(LOOP, 0x82)],
  // KVM (linux/kvm.h).
  ['KVM_GET_API_VERSION', io(KVMIO, 0x00)], ['KVM_CREATE_VM', io(KVMIO, 0x01)],
  ['KVM_GET_MSR_INDEX_LIST', iowr(KVMIO, 0x02, 4)], ['KVM_CHECK_EXTENSION', io(KVMIO, 0x03)],
  ['KVM_GET_VCPU_MMAP_SIZE', io(KVMIO, 0x04)], ['KVM_CREATE_VCPU', io(KVMIO, 0x41)],
  ['KVM_SET_USER_MEMORY_REGION', iow(KVMIO, 0x46, 32)], ['KVM_SET_TSS_ADDR', io(KVMIO, 0x47)],
  ['KVM_CREATE_IRQCHIP', io(KVMIO, 0x60)], ['KVM_RUN', io(KVMIO, 0x80)],
  ['KVM_GET_REGS', ior(KVMIO, 0x81, 144)], ['KVM_SET_REGS', iow(KVMIO, 0x82, 144)],
  ['KVM_GET_SREGS', ior(KVMIO, 0x83, 312)], ['KVM_SET_SREGS', iow(KVMIO, 0x84, 312)],
  // perf events (linux/perf_event.h): SET_BPF attaches a BPF program to the event.
  ['PERF_EVENT_IOC_ENABLE', io(PERF, 0)], ['PERF_EVENT_IOC_DISABLE', io(PERF, 1)],
  ['PERF_EVENT_IOC_REFRESH', io(PERF, 2)], ['PERF_EVENT_IOC_RESET', io(PERF, 3)],
  ['PERF_EVENT_IOC_PERIOD', iow(PERF, 4, 8)], ['PERF_EVENT_IOC_SET_OUTPUT', io(PERF, 5)],
  ['PERF_EVENT_IOC_SET_FILTER', iow(PERF, 6, 8)], ['PERF_EVENT_IOC_ID', ior(PERF, 7, 8)],
  ['PERF_EVENT_IOC_SET_BPF', iow(PERF, 8, 4)], ['PERF_EVENT_IOC_PAUSE_OUTPUT', iow(PERF, 9, 4)],
  ['PERF_EVENT_IOC_QUERY_BPF', iowr(PERF, 10, 8)], ['PERF_EVENT_IOC_MODIFY_ATTRIBUTES', iow(PERF, 11, 8)],
  // userfaultfd (linux/userfaultfd.h).
  ['UFFDIO_REGISTER', iowr(UFFDIO, 0x00, 32)], ['UFFDIO_UNREGISTER', ior(UFFDIO, 0x01, 16)],
  ['UFFDIO_WAKE', ior(UFFDIO, 0x02, 16)], ['UFFDIO_COPY', iowr(UFFDIO, 0x03, 40)],
  ['UFFDIO_ZEROPAGE', iowr(UFFDIO, 0x04, 32)], ['UFFDIO_WRITEPROTECT', iowr(UFFDIO, 0x06, 24)],
  ['UFFDIO_CONTINUE', iowr(UFFDIO, 0x07, 32)], ['UFFDIO_API', iowr(UFFDIO, 0x3f, 24)],
  // Namespaces (linux/nsfs.h) and seccomp user notification (linux/seccomp.h).
  ['NS_GET_USERNS', io(NSIO, 0x1)], ['NS_GET_PARENT', io(NSIO, 0x2)], ['NS_GET_NSTYPE', io(NSIO, 0x3)],
  ['NS_GET_OWNER_UID', io(NSIO, 0x4)],
  ['SECCOMP_IOCTL_NOTIF_RECV', iowr(SECCOMP, 0, 80)], ['SECCOMP_IOCTL_NOTIF_SEND', iowr(SECCOMP, 1, 24)],
  ['SECCOMP_IOCTL_NOTIF_ID_VALID', iow(SECCOMP, 2, 8)], ['SECCOMP_IOCTL_NOTIF_ADDFD', iow(SECCOMP, 3, 24)],
  // Hardware access from user space: i2c-dev, the RTC, input grabbing (keyloggers), x86 MSR driver.
  ['I2C_SLAVE', 0x0703], ['I2C_SLAVE_FORCE', 0x0706], ['I2C_RDWR', 0x0707], ['I2C_SMBUS', 0x0720],
  ['RTC_RD_TIME', ior(0x70, 0x09, 36)], ['RTC_SET_TIME', iow(0x70, 0x0a, 36)],
  ['EVIOCGRAB', iow(0x45, 0x90, 4)],
  ['X86_IOC_RDMSR_REGS', iowr(0x63, 0xa0, 32)], ['X86_IOC_WRMSR_REGS', iowr(0x63, 0xa1, 32)],
];

const BY_CODE = new Map<number, string>();
const BY_NAME = new Map<string, number>();
for (const [name, code] of TABLE) {
  // A repeated code would silently shadow a name: refuse to load instead.
  if (BY_CODE.has(code) || BY_NAME.has(name)) throw new Error(`ioctl table: ${name} (0x${code.toString(16)}) is listed twice`);
  BY_CODE.set(code, name);
  BY_NAME.set(name, code);
}

/** Every request this module names, name -> code (for listings and `describe`). */
export const IOCTL_REQUESTS: ReadonlyMap<string, number> = BY_NAME;

/** The kernel takes the low 32 bits of the request (cmd is an unsigned int); tracepoints hand it over as a 64-bit value. */
function toCode(request: number | bigint): number {
  return typeof request === 'bigint' ? Number(BigInt.asUintN(32, request)) : request >>> 0;
}

/** Splits a request into its _IOC fields and names it when it is a well-known request. */
export function decodeIoctl(request: number | bigint): IoctlRequest {
  const code = toCode(request);
  const decoded: IoctlRequest = {
    code,
    direction: DIRECTIONS[code >>> 30],
    type: (code >>> 8) & 0xff,
    nr: code & 0xff,
    size: (code >>> 16) & 0x3fff,
  };
  const name = BY_CODE.get(code);
  if (name !== undefined) decoded.name = name;
  return decoded;
}

/** The name of a well-known request, e.g. 0x5413 -> "TIOCGWINSZ". */
export function ioctlName(request: number | bigint): string | undefined {
  return BY_CODE.get(toCode(request));
}

/** The request code for a name ("TIOCSTI" -> 0x5412), for filters written with names. */
export function ioctlCode(name: string): number | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** One string for tables: the name when known, else the _IOC form strace prints, e.g. _IOR('T', 0x13, 8). */
export function formatIoctl(request: number | bigint): string {
  const d = decodeIoctl(request);
  if (d.name !== undefined) return d.name;
  const macro = MACROS[d.code >>> 30];
  const type = d.type >= 0x21 && d.type <= 0x7e && d.type !== 0x27 && d.type !== 0x5c ? `'${String.fromCharCode(d.type)}'` : `0x${d.type.toString(16)}`;
  const nr = `0x${d.nr.toString(16)}`;
  return macro === '_IO' ? `_IO(${type}, ${nr})` : `${macro}(${type}, ${nr}, ${d.size})`;
}
