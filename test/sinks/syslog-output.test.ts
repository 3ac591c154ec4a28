import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import '../../src/sinks/all.js';
import { createOutput } from '../../src/sinks/registry.js';
import { formatBsd, formatSyslog } from '../../src/sinks/syslog-output.js';
import { EMPTY_STATS, iopermEvent, range, seqOf, waitFor } from './support/events.js';
import { startRsyslog, type Rsyslog } from './support/servers.js';

/** RFC 5424 HEADER SP STRUCTURED-DATA SP MSG, with the grammar's field limits. */
const RFC5424 = /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) (-|\[.+?\]) (.*)$/s;

function parsedLines(r: Rsyslog, input: string): string[][] {
  if (!existsSync(r.outFile)) return [];
  return readFileSync(r.outFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'))
    .filter((f) => f[8] === input);
}

describe('-o syslog (RFC 5424 to a real rsyslogd on loopback)', () => {
  let rsyslog: Rsyslog;
  before(async () => {
    rsyslog = await startRsyslog();
  });
  after(async () => {
    await rsyslog?.stop();
  });

  it('formats a message rsyslog-independent checks accept: PRI, version 1, timestamp, host, app, procid, msgid', () => {
    const m = RFC5424.exec(formatSyslog(iopermEvent(0x378), 16));
    assert.ok(m, 'matches the RFC 5424 grammar');
    assert.equal(m[1], String(16 * 8 + 6), 'local0.info for a plain event');
    assert.equal(m[2], '2026-11-24T18:20:02.232067Z');
    assert.deepEqual([m[3], m[4], m[5], m[6], m[7]], ['host1', 'watchpost', String(process.pid), 'ioperm', '-']);
    assert.equal(seqOf(JSON.parse(m[8])), 0x378);
  });

  it('maps a finding severity (Tracee 0-3) to syslog notice..critical', () => {
    const pri = (sev: number): number => Number(/^<(\d+)>/.exec(formatSyslog(iopermEvent(1, { metadata: { Properties: { Severity: sev } } }), 4))![1]);
    assert.deepEqual([0, 1, 2, 3].map(pri), [4 * 8 + 5, 4 * 8 + 4, 4 * 8 + 3, 4 * 8 + 2]);
  });

  for (const transport of ['udp', 'tcp', 'unix'] as const) {
    it(`delivers over ${transport}: rsyslog parses each message as RFC 5424, every event once`, async () => {
      const target =
        transport === 'unix' ? `unix:${rsyslog.socketPath}` : `${transport}://127.0.0.1:${transport === 'udp' ? rsyslog.udpPort : rsyslog.tcpPort}`;
      const input = { udp: 'imudp', tcp: 'imtcp', unix: 'imuxsock' }[transport];
      const base = { udp: 1000, tcp: 2000, unix: 3000 }[transport];
      const out = createOutput(`syslog:${target}?facility=auth`);
      const events = range(base, 50).map((e, i) => (i === 7 ? { ...e, processName: 'evil\nname with | and spaces' } : e));
      out.write(events.slice(0, 25));
      out.write(events.slice(25));
      await out.close(EMPTY_STATS);
      assert.deepEqual(out.stats(), { name: `syslog:${target}?facility=auth`, sent: 50, dropped: 0, retried: 0, queued: 0 });
      const lines = await waitFor(`50 messages from ${input}`, () => {
        const l = parsedLines(rsyslog, input);
        return l.length >= 50 ? l : undefined;
      });
      assert.equal(lines.length, 50);
      for (const f of lines) {
        const [pri, version, ts, host, app, procid, msgid, sd] = f;
        assert.equal(pri, String(4 * 8 + 6), 'auth.info');
        assert.equal(version, '1', 'parsed by rsyslog as RFC 5424 (protocol-version 1)');
        // rsyslog's imuxsock stamps local-socket messages with the time it received them; network inputs keep ours.
        assert.match(ts, transport === 'unix' ? /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/ : /^2026-11-24T18:20:02\.2\d{5}(Z|\+00:00)$/);
        assert.deepEqual([host, app, procid, msgid, sd], ['host1', 'watchpost', String(process.pid), 'ioperm', '-']);
      }
      const seqs = lines.map((f) => seqOf(JSON.parse(f.slice(9).join('|'))));
      assert.deepEqual(seqs.sort((a, b) => a - b), events.map((_, i) => base + i));
      if (transport !== 'udp') {
        assert.deepEqual(seqs, events.map((_, i) => base + i), 'in order on a stream or local socket');
      }
    });
  }

  it('format=bsd on a Unix socket: what rsyslog expects on /dev/log by default (its imuxsock special parser)', async () => {
    const out = createOutput(`syslog:unix:${rsyslog.defaultSocketPath}?format=bsd`);
    out.write(range(4000, 10));
    await out.close(EMPTY_STATS);
    assert.equal(out.stats().sent, 10);
    const lines = await waitFor('10 messages from the default-parsed socket', () => {
      const l = parsedLines(rsyslog, 'imuxsock').filter((f) => f[9]?.includes('"value":40'));
      return l.length >= 10 ? l : undefined;
    });
    for (const [pri, version, , , app, procid, msgid] of lines) {
      assert.deepEqual([pri, version, app, procid, msgid], [String(16 * 8 + 6), '0', 'watchpost', String(process.pid), '-'], 'BSD-parsed: tag and pid found');
    }
    assert.deepEqual(lines.map((f) => seqOf(JSON.parse(f.slice(9).join('|').trim()))), Array.from({ length: 10 }, (_, i) => 4000 + i));
  });

  it('formats BSD messages as libc does: local time, no year, host only off a Unix socket', () => {
    const ev = iopermEvent(1);
    const d = new Date(Math.floor(ev.timestamp / 1e6));
    const hhmmss = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    assert.match(formatBsd(ev, 16, false), new RegExp(`^<134>Nov 2[45] ${hhmmss} watchpost\\[${process.pid}\\]: \\{"timestamp"`));
    assert.match(formatBsd(ev, 16, true), new RegExp(`^<134>Nov 2[45] ${hhmmss} host1 watchpost\\[${process.pid}\\]: \\{`));
  });

  it('frames TCP messages with octet counting (RFC 6587): LEN SP MSG, LEN in bytes', async () => {
    const chunks: Buffer[] = [];
    const conns: Socket[] = [];
    const srv = createServer((c) => (conns.push(c), c.on('data', (d: Buffer) => chunks.push(d))));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as { port: number }).port;
    const out = createOutput(`syslog:tcp://127.0.0.1:${port}`);
    const events = [iopermEvent(1, { processName: 'ünïcode' }), iopermEvent(2)];
    out.write(events);
    await out.close(EMPTY_STATS);
    await waitFor('bytes', () => (Buffer.concat(chunks).length > 0 ? true : undefined));
    conns.forEach((c) => c.destroy());
    srv.close();
    let buf = Buffer.concat(chunks);
    const messages: string[] = [];
    while (buf.length) {
      const sp = buf.indexOf(0x20);
      const len = Number(buf.subarray(0, sp).toString());
      assert.ok(Number.isInteger(len) && len > 0, 'a decimal length first');
      messages.push(buf.subarray(sp + 1, sp + 1 + len).toString());
      buf = buf.subarray(sp + 1 + len);
    }
    assert.deepEqual(messages, events.map((e) => formatSyslog(e, 16)));
  });

  it('a dead TCP receiver: write() returns at once, retries back off, then drops are counted', async () => {
    const out = createOutput('syslog:tcp://127.0.0.1:1?retries=2&backoff=20ms&queue=100');
    const t0 = performance.now();
    out.write(range(0, 150));
    assert.ok(performance.now() - t0 < 50, 'write() does not wait for the network');
    await out.close(EMPTY_STATS);
    const s = out.stats();
    assert.equal(s.sent, 0);
    assert.equal(s.dropped, 150, '50 over the queue bound at once, 100 after the retries');
    assert.ok(s.retried >= 100, `retried ${s.retried}`);
  });

  it('uses the machine host name when an event has none', () => {
    assert.match(formatSyslog(iopermEvent(1, { hostName: '' }), 1), new RegExp(` ${hostname().replace(/[^\x21-\x7e]/g, '_')} watchpost `));
  });
});
