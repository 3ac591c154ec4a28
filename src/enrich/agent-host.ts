import { hostname } from 'node:os';

/**
 * The name this agent reports for its machine: WATCHPOST_HOSTNAME when set (in a Kubernetes pod the UTS name is
 * the pod's, so the DaemonSet passes the node name), else the host name.
 */
export const agentHost: string = process.env.WATCHPOST_HOSTNAME || hostname();
