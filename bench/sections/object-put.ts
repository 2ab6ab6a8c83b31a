/** PutObject against the embedded Strata: every cell writes fresh keys; every ETag is checked. */
import { BenchClient } from '../lib/http-client.ts';
import { runCell } from '../lib/load.ts';
import { concurrencies, maxOpsFor, md5Hex, objectSizesBytes, putOperation } from '../lib/object-ops.ts';
import { patternBuffer, sizeLabel, sizeSlug } from '../lib/pattern.ts';
import { SigV4Signer } from '../lib/sigv4.ts';
import type { BenchContext, CellResult, Section, SectionResult } from '../types.ts';

const title = 'Strata PutObject';

export const objectPutSection: Section = {
  name: 'put',
  title,
  ceilings: ['loopback', 'disk', 'md5'],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const server = await ctx.strata();
    const signer = new SigV4Signer({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: 'us-east-1' });
    const cells: CellResult[] = [];
    for (const size of objectSizesBytes) {
      const body = patternBuffer(size, 5);
      const etag = `"${md5Hex(body)}"`;
      for (const concurrency of concurrencies) {
        await ctx.pairedCeiling('PUT', size, concurrency);
        const client = new BenchClient(server.endpoint, concurrency, signer);
        try {
          const cell = await runCell(
            { target: 'strata', op: 'PUT', sizeBytes: size, concurrency, timing: ctx.options.strataCell, maxOps: maxOpsFor(size), serverPid: server.pid },
            putOperation({ client, bucket: server.bucket, prefix: `put-${sizeSlug(size)}-c${concurrency}`, body, etag }),
          );
          cells.push(cell);
          ctx.progress(`strata PUT ${sizeLabel(size)} c${concurrency}: ${cell.opsPerSec.toFixed(0)} ops/s, ${cell.mibPerSec.toFixed(1)} MiB/s${cell.errors ? `, ${cell.errors} errors: ${cell.firstError ?? ''}` : ''}`);
        } finally {
          client.close();
        }
      }
    }
    return { name: 'put', title, cells, figures: [], notes: ['x-amz-content-sha256: UNSIGNED-PAYLOAD (header auth); ETag of every answer checked'] };
  },
};
