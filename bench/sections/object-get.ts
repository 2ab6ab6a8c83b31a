/**
 * GetObject against the embedded Strata: a set of objects per size is written first (distinct
 * bodies), then read round-robin; one body in `verifyEvery` is compared byte for byte, every
 * body's length is checked.
 */
import { BenchClient } from '../lib/http-client.ts';
import { runCell, type Operation } from '../lib/load.ts';
import { concurrencies, getOperation, maxOpsFor, objectSizesBytes, putOperation, verifyEvery } from '../lib/object-ops.ts';
import { patternBuffer, sizeLabel, sizeSlug } from '../lib/pattern.ts';
import { SigV4Signer } from '../lib/sigv4.ts';
import type { BenchContext, CellResult, Section, SectionResult, StrataServer } from '../types.ts';

const title = 'Strata GetObject';
/** Objects written per size before the GET cells; 1 MiB ones add up to 32 MiB. */
const seedObjectsBySize = new Map<number, number>([
  [4 * 1024, 256],
  [1024 * 1024, 32],
]);
const seedConcurrency = 8;

async function seed(server: StrataServer, signer: SigV4Signer, size: number): Promise<{ keys: string[]; bodies: Buffer[] }> {
  const n = seedObjectsBySize.get(size) ?? 32;
  const keys = Array.from({ length: n }, (_, i) => `get-${sizeSlug(size)}/${i}`);
  const bodies = keys.map((_, i) => patternBuffer(size, 1000 + i));
  const client = new BenchClient(server.endpoint, seedConcurrency, signer);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const body = bodies[i];
        if (!body) throw new Error(`no body ${i}`);
        // putOperation appends `/<seq>` to the prefix: the key is get-<size>/<i>.
        const put: Operation = putOperation({ client, bucket: server.bucket, prefix: `get-${sizeSlug(size)}`, body, etag: undefined });
        await put(i);
      }
    };
    await Promise.all(Array.from({ length: seedConcurrency }, () => worker()));
  } finally {
    client.close();
  }
  return { keys, bodies };
}

export const objectGetSection: Section = {
  name: 'get',
  title,
  ceilings: ['loopback'],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const server = await ctx.strata();
    const signer = new SigV4Signer({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: 'us-east-1' });
    const cells: CellResult[] = [];
    for (const size of objectSizesBytes) {
      const { keys, bodies } = await seed(server, signer, size);
      ctx.progress(`strata GET: wrote ${keys.length} objects of ${sizeLabel(size)} to read`);
      for (const concurrency of concurrencies) {
        await ctx.pairedCeiling('GET', size, concurrency);
        const client = new BenchClient(server.endpoint, concurrency, signer);
        try {
          const cell = await runCell(
            { target: 'strata', op: 'GET', sizeBytes: size, concurrency, timing: ctx.options.strataCell, maxOps: maxOpsFor(size), serverPid: server.pid },
            getOperation({ client, bucket: server.bucket, keys, bodies }),
          );
          cells.push(cell);
          ctx.progress(`strata GET ${sizeLabel(size)} c${concurrency}: ${cell.opsPerSec.toFixed(0)} ops/s, ${cell.mibPerSec.toFixed(1)} MiB/s${cell.errors ? `, ${cell.errors} errors: ${cell.firstError ?? ''}` : ''}`);
        } finally {
          client.close();
        }
      }
    }
    return { name: 'get', title, cells, figures: [], notes: [`objects read round-robin; 1 body in ${verifyEvery} compared byte for byte, every length checked`] };
  },
};
