#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size: see README "Configuration" (a larger young generation: log replay and
// the request paths allocate short-lived objects fast; 16 MiB semi-spaces promoted whole batches).
// Runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
