import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { exit, mov64Imm, R0 } from './asm.js';
import { Btf, BtfKind } from './btf.js';
import { attachTracing } from './link.js';
import { Program, VerifierError } from './programs.js';
import { strerror, SyscallError } from './sys.js';

/** Whether BPF LSM programs (what `deny` needs to make a call fail) can attach here: probed, never assumed. */

const SECURITYFS = '/sys/kernel/security';
/** BPF_PROG_TYPE_LSM and its attach type BPF_LSM_MAC (include/uapi/linux/bpf.h). */
const PROG_TYPE_LSM = 29;
const BPF_LSM_MAC = 27;

export type LsmSupport = { ok: true; lsms: string[] } | { ok: false; lsms: string[] | undefined; errno?: number; reason: string };

/** The active LSMs from securityfs; mounted for the look when absent, and unmounted after: the machine stays as found. */
export function activeLsms(): string[] | undefined {
  const file = `${SECURITYFS}/lsm`;
  let mounted = false;
  if (!existsSync(file)) {
    try {
      mkdirSync(SECURITYFS, { recursive: true });
      execFileSync('mount', ['-t', 'securityfs', 'none', SECURITYFS], { stdio: 'ignore' });
      mounted = true;
    } catch {
      return undefined;
    }
  }
  try {
    return readFileSync(file, 'utf8').trim().split(',').filter(Boolean);
  } catch {
    return undefined;
  } finally {
    if (mounted) {
      try {
        execFileSync('umount', [SECURITYFS], { stdio: 'ignore' });
      } catch {
        // busy: someone else uses it now; leaving it mounted is harmless
      }
    }
  }
}

/**
 * Loads a trivial LSM program (returns 0: allow) on `hook` and attaches it for an instant, as `deny` would: the only
 * honest answer to "can deny work here". `btf` is parsed kernel BTF (the hook's id is bpf_lsm_<hook>'s).
 */
export function probeLsm(hook = 'locked_down', btf: Btf = Btf.load()): LsmSupport {
  const lsms = activeLsms();
  if (lsms === undefined) return { ok: false, lsms, reason: `cannot read ${SECURITYFS}/lsm (securityfs would not mount)` };
  if (!lsms.includes('bpf')) return { ok: false, lsms, reason: `the bpf LSM is not active (lsm=${lsms.join(',')}); boot with lsm=...,bpf` };
  let id: number;
  try {
    id = btf.typeId(`bpf_lsm_${hook}`, BtfKind.func);
  } catch {
    return { ok: false, lsms, reason: `kernel BTF has no bpf_lsm_${hook} (CONFIG_BPF_LSM off?)` };
  }
  let prog: Program;
  try {
    prog = new Program({ name: 'wp_lsm_probe', type: PROG_TYPE_LSM, instructions: [mov64Imm(R0, 0), exit()], expectedAttachType: BPF_LSM_MAC, attachBtfId: id });
  } catch (e) {
    const errno = e instanceof SyscallError || e instanceof VerifierError ? e.errno : undefined;
    return { ok: false, lsms, errno, reason: `loading an LSM program on ${hook} failed${errno ? ` (${strerror(errno)}, errno ${errno})` : `: ${(e as Error).message.split('\n')[0]}`}` };
  }
  try {
    attachTracing(prog.fd, `lsm/${hook}`).close();
    return { ok: true, lsms };
  } catch (e) {
    const errno = e instanceof SyscallError ? e.errno : undefined;
    return { ok: false, lsms, errno, reason: `attaching an LSM program to ${hook} failed${errno ? ` (${strerror(errno)}, errno ${errno})` : `: ${(e as Error).message.split('\n')[0]}`}` };
  } finally {
    prog.close();
  }
}
