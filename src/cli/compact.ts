/**
 * `strata compact --node N [--dead-ratio R]`: runs a compaction on a storage node now (over
 * NATS_URL), shows its progress, and prints what it reclaimed, what it copied (write
 * amplification) and how long it took.
 */
import { connectNats } from '../app/strata.ts';
import type { CompactionProgress, CompactionSummary } from '../storage/compaction.ts';
import { nodeSubjects, replyStatus } from '../storage/node-protocol.ts';
import { flag } from './signals.ts';

const requestTimeoutMs = 6 * 3600 * 1000;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function bar(p: CompactionProgress): string {
  const width = 30;
  const done = p.bytesToCopy === 0 ? 1 : Math.min(1, p.bytesCopied / p.bytesToCopy);
  const filled = Math.round(done * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ${p.phase} ${p.victims} segments, ${mib(p.bytesCopied)}/${mib(p.bytesToCopy)} copied`;
}

export async function runCompact(args: string[]): Promise<void> {
  const nodeId = flag(args, 'node') ?? process.env['STRATA_NODE_ID'];
  const url = process.env['NATS_URL'];
  const ratio = flag(args, 'dead-ratio');
  if (!nodeId || !url) {
    console.error('usage: NATS_URL=nats://host:port strata compact --node NODE_ID [--dead-ratio 0.5]');
    process.exit(2);
  }
  const nc = await connectNats(url, `strata-compact-${nodeId}`);
  const subjects = nodeSubjects(nodeId);
  const tty = process.stderr.isTTY;
  let last = 0;
  const sub = nc.subscribe(subjects.compactProgress, {
    callback: (_err, msg) => {
      const p = JSON.parse(msg.string()) as CompactionProgress;
      const now = Date.now();
      if (!tty && p.phase === 'copying' && now - last < 1000) return;
      last = now;
      process.stderr.write(tty ? `\r${bar(p)}` : `${bar(p)}\n`);
    },
  });
  await nc.flush();
  const body = JSON.stringify(ratio === undefined ? {} : { deadRatioMin: Number(ratio) });
  const reply = await nc.request(subjects.compact, body, { timeout: requestTimeoutMs });
  sub.unsubscribe();
  if (tty) process.stderr.write('\n');
  const status = replyStatus(reply.headers);
  if (status.kind === 'error') {
    console.error(`compaction on ${nodeId} failed: ${status.code}: ${status.message}`);
    await nc.close();
    process.exit(1);
  }
  const s = JSON.parse(reply.string()) as CompactionSummary;
  const amplification = s.bytesReclaimed > 0 ? (s.bytesCopied / s.bytesReclaimed).toFixed(2) : '-';
  console.log(
    [
      `compaction on ${nodeId}: ${s.victims.length} segments compacted${s.segmentsKept.length > 0 ? `, ${s.segmentsKept.length} kept (corrupt live records)` : ''}`,
      `  reclaimed: ${mib(s.bytesReclaimed)} (${s.bytesReclaimed} bytes)`,
      `  copied:    ${mib(s.bytesCopied)} in ${s.recordsCopied} records (write amplification ${amplification})`,
      `  time:      ${(s.durationMs / 1000).toFixed(2)} s`,
    ].join('\n'),
  );
  await nc.close();
}
