import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { planKernelFilters } from '../../src/policy/kernel-plan.js';
import { parsePolicyText } from '../../src/policy/policy-file.js';
import { policyFromFlags } from '../../src/policy/policy.js';
import type { PolicySpec } from '../../src/policy/spec.js';

/** The eBPF task pre-filter of the kernel plan. */
const kernelScopeOf = (specs: PolicySpec[]) => planKernelFilters(specs, [findEvent('ioperm')!, findEvent('iopl')!]).scope;

describe('eBPF kernel pre-filter from the policies', () => {
  it('pushes exact uid, comm and mntns scopes of the one CLI policy', () => {
    const spec = policyFromFlags({ events: ['ioperm'], scope: ['uid=0,1000', 'comm=portpoke', 'mntns=4026531832'] });
    assert.deepEqual(kernelScopeOf([spec]), { uids: [0, 1000], comms: ['portpoke'], mntns: [4026531832] });
  });

  it('pushes nothing for ranges, wildcards, follow, or a global scope', () => {
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['uid>=1000'] })]), undefined);
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['comm=port*'] })]), undefined);
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['comm=portpoke', 'follow'] })]), undefined);
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'] })]), undefined);
  });

  it('pushes nothing where the other conditions on the field widen the exact values (the matcher ORs them)', () => {
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['uid=0', 'uid>=1000'] })]), undefined);
    assert.equal(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['comm=portpoke', 'comm=port*'] })]), undefined);
    assert.deepEqual(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['uid=0', 'uid!=5'] })]), { uids: [0] });
  });

  it('leaves out a uid no task can have, rather than handing the probe a value it refuses', () => {
    assert.deepEqual(kernelScopeOf([policyFromFlags({ events: ['ioperm'], scope: ['uid=0,5000000000'] })]), { uids: [0] });
  });

  it('with several policies, pushes a kind only when all restrict it, and then their union', () => {
    const specs = parsePolicyText(
      `apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata: { name: a }
spec:
  scope: [comm=alpha, uid=0]
  rules: [{ event: ioperm }]
---
apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata: { name: b }
spec:
  scope: [comm=beta]
  rules: [{ event: iopl }]
`,
      'two.yaml',
    );
    assert.deepEqual(kernelScopeOf(specs), { comms: ['alpha', 'beta'] });
  });
});
