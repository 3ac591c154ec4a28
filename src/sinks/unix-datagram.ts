import { errnoByNumber } from '../enrich/errno.js';

/** A Unix datagram socket (what /dev/log is): node:dgram has none, so socket(2)/sendto(2) go through koffi. */

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

export interface UnixDatagramSocket {
  /** Sends one datagram without blocking; throws with the errno name (EAGAIN when the receiver is behind). */
  send(message: Buffer): void;
  close(): void;
}

/** Loaded on first use, so start-up does not pay for the FFI library when no unix: output is asked for. */
export async function openUnixDatagram(path: string): Promise<UnixDatagramSocket> {
  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  const socket = libc.func('int socket(int, int, int)');
  const sendto = libc.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)');
  const close = libc.func('int close(int)');
  const pathBytes = Buffer.from(path);
  if (pathBytes.length >= SUN_PATH_MAX) throw new Error(`${path}: longer than a Unix socket path can be (${SUN_PATH_MAX - 1} bytes)`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  pathBytes.copy(addr, 2);
  const addrLen = 2 + pathBytes.length + 1;
  const fd = Number(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd < 0) throw new Error(`socket(AF_UNIX): ${errnoName(koffi.errno())}`);
  let open = true;
  return {
    send(message) {
      const r = Number(sendto(fd, message, message.length, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addrLen));
      if (r < 0) throw new Error(`sendto ${path}: ${errnoName(koffi.errno())}`);
    },
    close() {
      if (open) close(fd);
      open = false;
    },
  };
}

const errnoName = (n: number): string => errnoByNumber(n) ?? `errno ${n}`;
