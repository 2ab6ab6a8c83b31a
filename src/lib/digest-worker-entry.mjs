// Entry of a digest worker thread (digest-pool.ts). A worker does not inherit the parent's tsx
// hooks when Strata was started through bin/strata.mjs (register() rather than --import), so it
// registers tsx itself before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./digest-worker.ts', import.meta.url).href);
