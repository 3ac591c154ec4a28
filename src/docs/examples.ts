// Captured by `node dist/test/docs/capture-examples.js --write` (as root, after `npx tsc -p .`), on 2026-11-24:
// the test helper test/fixtures/syscaller.c made each call below while Watchpost traced its pid, and these are the lines
// Watchpost's table and JSON printers produced. test/docs/examples.test.ts re-captures and compares. Do not edit by hand.
import type { EventExample } from './event-page.js';

export const EXAMPLES: Readonly<Record<string, EventExample>> = {
  "ioperm": {
    "kernel": "6.18.44-fc-v657",
    "backend": "tracefs",
    "calls": [
      "ioperm:0x378:3:1",
      "ioperm32:0x64:1:1"
    ],
    "table": [
      "TIME              UID    COMM             PID     TID     RET     EVENT            ARGS",
      "18:25:12.670858   0      watchpost-sysca  15703   15703   -38     ioperm           from: 0x378, num: 3, turn_on: 1",
      "18:25:12.670882   0      watchpost-sysca  15703   15703   -38     ioperm(32)       from: 0x64, num: 1, turn_on: 1"
    ],
    "json": [
      "{\"timestamp\":1795544712670858800,\"threadStartTime\":1795544712616172000,\"processorId\":1,\"processId\":15703,\"cgroupId\":0,\"threadId\":15703,\"parentProcessId\":15692,\"hostProcessId\":15703,\"hostThreadId\":15703,\"hostParentProcessId\":15692,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-cdb0227ba433\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"173\",\"eventName\":\"ioperm\",\"matchedPolicies\":[],\"argsNum\":3,\"returnValue\":-38,\"syscall\":\"ioperm\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":2006170458,\"processEntityId\":2006170458,\"parentEntityId\":2907119334,\"args\":[{\"name\":\"from\",\"type\":\"uint64\",\"value\":888},{\"name\":\"num\",\"type\":\"uint64\",\"value\":3},{\"name\":\"turn_on\",\"type\":\"int32\",\"value\":1}],\"metadata\":{}}"
    ]
  },
  "iopl": {
    "kernel": "6.18.44-fc-v657",
    "backend": "tracefs",
    "calls": [
      "iopl:3",
      "iopl32:3"
    ],
    "table": [
      "TIME              UID    COMM             PID     TID     RET     EVENT            ARGS",
      "18:25:13.227241   0      watchpost-sysca  15705   15705   -38     iopl             level: 3",
      "18:25:13.227268   0      watchpost-sysca  15705   15705   -38     iopl(32)         level: 3"
    ],
    "json": [
      "{\"timestamp\":1795544713227241500,\"threadStartTime\":1795544713165758500,\"processorId\":1,\"processId\":15705,\"cgroupId\":0,\"threadId\":15705,\"parentProcessId\":15692,\"hostProcessId\":15705,\"hostThreadId\":15705,\"hostParentProcessId\":15692,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-cdb0227ba433\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"172\",\"eventName\":\"iopl\",\"matchedPolicies\":[],\"argsNum\":1,\"returnValue\":-38,\"syscall\":\"iopl\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":1210730440,\"processEntityId\":1210730440,\"parentEntityId\":2907119334,\"args\":[{\"name\":\"level\",\"type\":\"int32\",\"value\":3}],\"metadata\":{}}"
    ]
  },
  "ioctl": {
    "kernel": "6.18.44-fc-v657",
    "backend": "tracefs",
    "calls": [
      "ioctl:0:0x5413:0",
      "ioctl32:0:0x5413:0"
    ],
    "table": [
      "TIME              UID    COMM             PID     TID     RET     EVENT            ARGS",
      "18:25:13.837649   0      watchpost-sysca  15709   15709   -25     ioctl            fd: 0, request: 0x5413, arg: 0x0",
      "18:25:13.837677   0      watchpost-sysca  15709   15709   -25     ioctl(32)        fd: 0, request: 0x5413, arg: 0x0"
    ],
    "json": [
      "{\"timestamp\":1795544713837649700,\"threadStartTime\":1795544713745756200,\"processorId\":0,\"processId\":15709,\"cgroupId\":0,\"threadId\":15709,\"parentProcessId\":15692,\"hostProcessId\":15709,\"hostThreadId\":15709,\"hostParentProcessId\":15692,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-cdb0227ba433\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"16\",\"eventName\":\"ioctl\",\"matchedPolicies\":[],\"argsNum\":3,\"returnValue\":-25,\"syscall\":\"ioctl\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":1559957650,\"processEntityId\":1559957650,\"parentEntityId\":2907119334,\"args\":[{\"name\":\"fd\",\"type\":\"int32\",\"value\":0},{\"name\":\"request\",\"type\":\"uint64\",\"value\":21523},{\"name\":\"arg\",\"type\":\"uint64\",\"value\":0}],\"metadata\":{}}"
    ]
  },
  "perf_event_open": {
    "kernel": "6.18.44-fc-v657",
    "backend": "tracefs",
    "calls": [
      "perf_event_open:0:-1:0:-1:8"
    ],
    "table": [
      "TIME              UID    COMM             PID     TID     RET     EVENT            ARGS",
      "18:25:14.496312   0      watchpost-sysca  15711   15711   -14     perf_event_open  attr: 0x0, pid: -1, cpu: 0, group_fd: -1, flags: 0x8"
    ],
    "json": [
      "{\"timestamp\":1795544714496312300,\"threadStartTime\":1795544714375758800,\"processorId\":0,\"processId\":15711,\"cgroupId\":0,\"threadId\":15711,\"parentProcessId\":15692,\"hostProcessId\":15711,\"hostThreadId\":15711,\"hostParentProcessId\":15692,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-cdb0227ba433\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"298\",\"eventName\":\"perf_event_open\",\"matchedPolicies\":[],\"argsNum\":5,\"returnValue\":-14,\"syscall\":\"perf_event_open\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":2401139157,\"processEntityId\":2401139157,\"parentEntityId\":2907119334,\"args\":[{\"name\":\"attr\",\"type\":\"pointer\",\"value\":\"0x0\"},{\"name\":\"pid\",\"type\":\"int32\",\"value\":-1},{\"name\":\"cpu\",\"type\":\"int32\",\"value\":0},{\"name\":\"group_fd\",\"type\":\"int32\",\"value\":-1},{\"name\":\"flags\",\"type\":\"uint64\",\"value\":8}],\"metadata\":{}}"
    ]
  },
  "userfaultfd": {
    "kernel": "6.18.44-fc-v657",
    "backend": "tracefs",
    "calls": [
      "userfaultfd:0x800"
    ],
    "table": [
      "TIME              UID    COMM             PID     TID     RET     EVENT            ARGS",
      "18:25:15.082938   0      watchpost-sysca  15732   15732   3       userfaultfd      flags: 0x800"
    ],
    "json": [
      "{\"timestamp\":1795544715082938600,\"threadStartTime\":1795544715025758200,\"processorId\":1,\"processId\":15732,\"cgroupId\":0,\"threadId\":15732,\"parentProcessId\":15692,\"hostProcessId\":15732,\"hostThreadId\":15732,\"hostParentProcessId\":15692,\"userId\":0,\"mountNamespace\":4026531832,\"pidNamespace\":4026531836,\"processName\":\"watchpost-sysca\",\"executable\":{\"path\":\"/tmp/watchpost-syscaller-cdb0227ba433\"},\"hostName\":\"vm\",\"containerId\":\"\",\"container\":{\"id\":\"\",\"name\":\"\",\"image\":\"\",\"imageDigest\":\"\"},\"kubernetes\":{\"podName\":\"\",\"podNamespace\":\"\",\"podUID\":\"\",\"podSandbox\":false},\"eventId\":\"323\",\"eventName\":\"userfaultfd\",\"matchedPolicies\":[],\"argsNum\":1,\"returnValue\":3,\"syscall\":\"userfaultfd\",\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,\"isCompat\":false},\"threadEntityId\":3960246683,\"processEntityId\":3960246683,\"parentEntityId\":2907119334,\"args\":[{\"name\":\"flags\",\"type\":\"int32\",\"value\":2048}],\"metadata\":{}}"
    ]
  }
};
