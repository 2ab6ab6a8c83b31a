/** Named crash points live in lib (the gateway uses them too); re-exported for storage code. */
export { crashPoint } from '../lib/crash-points.ts';
