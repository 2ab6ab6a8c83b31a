// Entry of a replay worker thread (replay-reader.ts). Like digest-worker-entry.mjs: a worker does
// not inherit the parent's tsx hooks when Strata was started through bin/strata.mjs, so it
// registers tsx itself before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./replay-worker.ts', import.meta.url).href);
