// Captured by `node dist/test/docs/capture-examples.js --write` (as root, after `npx tsc -p .`), on 2026-11-24:
// the CLI traced the system while the test helper test/fixtures/syscaller.c made each call below, and these are the
// lines the CLI printed for the helper's pid. test/docs/examples.test.ts re-captures and compares. Do not edit by hand.
import type { EventExample } from './event-page.js';

export const EXAMPLES: Readonly<Record<string, EventExample>> = {
  "ioperm": {
    "kernel": "6.18.44-fc-v657",
    "backend": "ebpf",
    "calls": [
      "ioperm:0x378:3:1",
      "ioperm32:0x64:1:1"
    ],
    "tableCommand": "watchpost -e ioperm",
    "table": [
      "TIME              UID    COMM             PID     TID     RET          EVENT            ARGS",
      "19:58:15.920621   0      watchpost-sysca  7389    7389    -38 ENOSYS   ioperm           from: 0x378, num: 3, turn_on: 1 [0x378-0x37a parallel port LPT1]",
      "19:58:15.920655   0      watchpost-sysca  7389    7389    -38 ENOSYS   ioperm(32)       from: 0x64, num: 1, turn_on: 1 [0x64 keyboard / keyboard controller (i8042; can reset the CPU)]"
    ],
    "jsonCommand": "watchpost -e ioperm -o json",
    "json": [
      "{\"timestamp\":1795550298464601300,\"threadStartTime\":1795550298233740500,\"processorId\":1,\"processId\":7409,\"cgroupId\":1,\"threadId\":7409,\"parentProcessId\":7376,\"hostProcessId\":7409,\"hostThreadId\":7409,\"hostParentProcessId\":7376,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-e5e3ecf84410\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"173\",\"eventName\":\"ioperm\",\"matchedPolicies\":[\"cli\"],\"argsNum\":3,\"returnValue\":-38,\"syscall\":\"ioperm\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":1851970152,\"processEntityId\":1851970152,\"parentEntityId\":2866897883,\"args\":[{\"name\":\"from\",\"type\":\"uint64\",\"value\":888},{\"name\":\"num\",\"type\":\"uint64\",\"value\":3},{\"name\":\"turn_on\",\"type\":\"int32\",\"value\":1}],\"metadata\":{},\"errno\":\"ENOSYS\",\"ports\":[{\"first\":888,\"last\":890,\"owner\":\"parallel port LPT1\",\"source\":\"legacy\"}]}"
    ]
  },
  "iopl": {
    "kernel": "6.18.44-fc-v657",
    "backend": "ebpf",
    "calls": [
      "iopl:3",
      "iopl32:3"
    ],
    "tableCommand": "watchpost -e iopl",
    "table": [
      "TIME              UID    COMM             PID     TID     RET          EVENT            ARGS",
      "19:58:21.359138   0      watchpost-sysca  7430    7430    -38 ENOSYS   iopl             level: 3 [all 65536 ports 0x0-0xffff]",
      "19:58:21.359229   0      watchpost-sysca  7430    7430    -38 ENOSYS   iopl(32)         level: 3 [all 65536 ports 0x0-0xffff]"
    ],
    "jsonCommand": "watchpost -e iopl -o json",
    "json": [
      "{\"timestamp\":1795550303471475000,\"threadStartTime\":1795550303303166500,\"processorId\":1,\"processId\":7454,\"cgroupId\":1,\"threadId\":7454,\"parentProcessId\":7376,\"hostProcessId\":7454,\"hostThreadId\":7454,\"hostParentProcessId\":7376,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-e5e3ecf84410\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"172\",\"eventName\":\"iopl\",\"matchedPolicies\":[\"cli\"],\"argsNum\":1,\"returnValue\":-38,\"syscall\":\"iopl\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":1423399485,\"processEntityId\":1423399485,\"parentEntityId\":2866897883,\"args\":[{\"name\":\"level\",\"type\":\"int32\",\"value\":3}],\"metadata\":{},\"errno\":\"ENOSYS\",\"ports\":[{\"first\":0,\"last\":31,\"owner\":\"dma1 / DMA controller 1\",\"source\":\"ioports\"},{\"first\":32,\"last\":33,\"owner\":\"pic1 / PIC 1 (interrupt controller)\",\"source\":\"ioports\"},{\"first\":34,\"last\":63,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":64,\"last\":67,\"owner\":\"timer0 / PIT (timer)\",\"source\":\"ioports\"},{\"first\":68,\"last\":79,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":80,\"last\":83,\"owner\":\"timer1\",\"source\":\"ioports\"},{\"first\":84,\"last\":95,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":96,\"last\":96,\"owner\":\"keyboard / keyboard controller (i8042)\",\"source\":\"ioports\"},{\"first\":97,\"last\":97,\"owner\":\"system control port B (PC speaker, NMI status)\",\"source\":\"legacy\"},{\"first\":98,\"last\":99,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":100,\"last\":100,\"owner\":\"keyboard / keyboard controller (i8042; can reset the CPU)\",\"source\":\"ioports\"},{\"first\":101,\"last\":111,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":112,\"last\":113,\"owner\":\"rtc_cmos / CMOS/RTC (also NMI mask)\",\"source\":\"ioports\"},{\"first\":114,\"last\":127,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":128,\"last\":128,\"owner\":\"dma page reg / POST code\",\"source\":\"ioports\"},{\"first\":129,\"last\":143,\"owner\":\"dma page reg / DMA page registers\",\"source\":\"ioports\"},{\"first\":144,\"last\":145,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":146,\"last\":146,\"owner\":\"system control port A (fast A20, fast reset)\",\"source\":\"legacy\"},{\"first\":147,\"last\":159,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":160,\"last\":161,\"owner\":\"pic2 / PIC 2 (interrupt controller)\",\"source\":\"ioports\"},{\"first\":162,\"last\":177,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":178,\"last\":179,\"owner\":\"APM/SMI command port (enters SMM)\",\"source\":\"legacy\"},{\"first\":180,\"last\":191,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":192,\"last\":223,\"owner\":\"dma2 / DMA controller 2\",\"source\":\"ioports\"},{\"first\":224,\"last\":239,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":240,\"last\":255,\"owner\":\"fpu / FPU\",\"source\":\"ioports\"},{\"first\":256,\"last\":367,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":368,\"last\":375,\"owner\":\"secondary ATA\",\"source\":\"legacy\"},{\"first\":376,\"last\":495,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":496,\"last\":503,\"owner\":\"primary ATA\",\"source\":\"legacy\"},{\"first\":504,\"last\":631,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":632,\"last\":639,\"owner\":\"parallel port LPT2\",\"source\":\"legacy\"},{\"first\":640,\"last\":759,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":760,\"last\":767,\"owner\":\"serial port COM2\",\"source\":\"legacy\"},{\"first\":768,\"last\":887,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":888,\"last\":895,\"owner\":\"parallel port LPT1\",\"source\":\"legacy\"},{\"first\":896,\"last\":959,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":960,\"last\":991,\"owner\":\"VGA\",\"source\":\"legacy\"},{\"first\":992,\"last\":1013,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":1014,\"last\":1014,\"owner\":\"primary ATA control\",\"source\":\"legacy\"},{\"first\":1015,\"last\":1015,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":1016,\"last\":1023,\"owner\":\"serial / serial port COM1\",\"source\":\"ioports\"},{\"first\":1024,\"last\":3319,\"owner\":\"unclaimed (PCI Bus 0000:00)\",\"source\":\"ioports\"},{\"first\":3320,\"last\":3320,\"owner\":\"PCI conf1 / PCI configuration space (reaches every PCI device)\",\"source\":\"ioports\"},{\"first\":3321,\"last\":3321,\"owner\":\"PCI conf1 / reset control register (PCI configuration space)\",\"source\":\"ioports\"},{\"first\":3322,\"last\":3327,\"owner\":\"PCI conf1 / PCI configuration space (reaches every PCI device)\",\"source\":\"ioports\"},{\"first\":3328,\"last\":65535,\"owner\":\"PCI Bus 0000:00\",\"source\":\"ioports\"}]}"
    ]
  },
  "ioctl": {
    "kernel": "6.18.44-fc-v657",
    "backend": "ebpf",
    "calls": [
      "ioctl:0:0x5413:0",
      "ioctl32:0:0x5413:0"
    ],
    "tableCommand": "watchpost -e ioctl",
    "table": [
      "TIME              UID    COMM             PID     TID     RET          EVENT            ARGS",
      "19:58:25.377996   0      watchpost-sysca  7467    7467    -25 ENOTTY   ioctl            fd: 0, request: TIOCGWINSZ, arg: 0x0",
      "19:58:25.378017   0      watchpost-sysca  7467    7467    -25 ENOTTY   ioctl(32)        fd: 0, request: TIOCGWINSZ, arg: 0x0"
    ],
    "jsonCommand": "watchpost -e ioctl -o json",
    "json": [
      "{\"timestamp\":1795550307164425000,\"threadStartTime\":1795550307001717800,\"processorId\":1,\"processId\":7490,\"cgroupId\":1,\"threadId\":7490,\"parentProcessId\":7376,\"hostProcessId\":7490,\"hostThreadId\":7490,\"hostParentProcessId\":7376,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-e5e3ecf84410\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"16\",\"eventName\":\"ioctl\",\"matchedPolicies\":[\"cli\"],\"argsNum\":3,\"returnValue\":-25,\"syscall\":\"ioctl\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":2922863257,\"processEntityId\":2922863257,\"parentEntityId\":2866897883,\"args\":[{\"name\":\"fd\",\"type\":\"int32\",\"value\":0},{\"name\":\"request\",\"type\":\"uint64\",\"value\":21523},{\"name\":\"arg\",\"type\":\"uint64\",\"value\":0}],\"metadata\":{},\"errno\":\"ENOTTY\",\"decoded\":{\"request\":\"TIOCGWINSZ\"}}"
    ]
  },
  "perf_event_open": {
    "kernel": "6.18.44-fc-v657",
    "backend": "ebpf",
    "calls": [
      "perf_event_open:0:-1:0:-1:8"
    ],
    "tableCommand": "watchpost -e perf_event_open",
    "table": [
      "TIME              UID    COMM             PID     TID     RET          EVENT            ARGS",
      "19:58:29.028835   0      watchpost-sysca  7527    7527    -14 EFAULT   perf_event_open  attr: 0x0 (unread), pid: -1, cpu: 0, group_fd: -1, flags: PERF_FLAG_FD_CLOEXEC"
    ],
    "jsonCommand": "watchpost -e perf_event_open -o json",
    "json": [
      "{\"timestamp\":1795550311163766000,\"threadStartTime\":1795550310829513000,\"processorId\":1,\"processId\":7591,\"cgroupId\":1,\"threadId\":7591,\"parentProcessId\":7376,\"hostProcessId\":7591,\"hostThreadId\":7591,\"hostParentProcessId\":7376,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-e5e3ecf84410\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"298\",\"eventName\":\"perf_event_open\",\"matchedPolicies\":[\"cli\"],\"argsNum\":5,\"returnValue\":-14,\"syscall\":\"perf_event_open\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":551738459,\"processEntityId\":551738459,\"parentEntityId\":2866897883,\"args\":[{\"name\":\"attr\",\"type\":\"pointer\",\"value\":\"0x0\"},{\"name\":\"pid\",\"type\":\"int32\",\"value\":-1},{\"name\":\"cpu\",\"type\":\"int32\",\"value\":0},{\"name\":\"group_fd\",\"type\":\"int32\",\"value\":-1},{\"name\":\"flags\",\"type\":\"uint64\",\"value\":8}],\"metadata\":{},\"errno\":\"EFAULT\",\"decoded\":{\"flags\":\"PERF_FLAG_FD_CLOEXEC\",\"attr\":\"unread\"}}"
    ]
  },
  "userfaultfd": {
    "kernel": "6.18.44-fc-v657",
    "backend": "ebpf",
    "calls": [
      "userfaultfd:0x800"
    ],
    "tableCommand": "watchpost -e userfaultfd",
    "table": [
      "TIME              UID    COMM             PID     TID     RET          EVENT            ARGS",
      "19:58:34.462822   0      watchpost-sysca  7637    7637    3            userfaultfd      flags: O_NONBLOCK"
    ],
    "jsonCommand": "watchpost -e userfaultfd -o json",
    "json": [
      "{\"timestamp\":1795550316572493300,\"threadStartTime\":1795550316438213400,\"processorId\":1,\"processId\":7660,\"cgroupId\":1,\"threadId\":7660,\"parentProcessId\":7376,\"hostProcessId\":7660,\"hostThreadId\":7660,\"hostParentProcessId\":7376,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-e5e3ecf84410\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"323\",\"eventName\":\"userfaultfd\",\"matchedPolicies\":[\"cli\"],\"argsNum\":1,\"returnValue\":3,\"syscall\":\"userfaultfd\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":329378680,\"processEntityId\":329378680,\"parentEntityId\":2866897883,\"args\":[{\"name\":\"flags\",\"type\":\"int32\",\"value\":2048}],\"metadata\":{},\"decoded\":{\"flags\":\"O_NONBLOCK\"}}"
    ]
  }
};
