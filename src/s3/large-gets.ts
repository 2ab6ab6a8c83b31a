/**
 * A gateway-wide bound on GET bodies larger than one shard that stream at the same time. Each such
 * body holds up to three shard buffers (the one being written to the socket, the one read ahead,
 * and the one the node is reading), so without a bound a client with many parallel ranged GETs
 * (the AWS CLI downloads with 10) would decide the gateway's memory. Waiting requests hold only
 * their socket; their number is bounded by limits.gatewayRequestsInFlightMax.
 */
import { limits } from '../lib/limits.ts';

let active = 0;
const waiting: (() => void)[] = [];

/** Resolves once the body may stream; call the returned function when it is done. */
export async function admitLargeGet(): Promise<() => void> {
  if (active >= limits.largeGetBodiesInFlightMax) await new Promise<void>((resolve) => waiting.push(resolve));
  else active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = waiting.shift();
    // The slot passes straight to the next waiter, so `active` stays the same.
    if (next) next();
    else active--;
  };
}
