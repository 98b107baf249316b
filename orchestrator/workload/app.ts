// The app inside every workload (agents/vm-guest's /init, agents/container-image's app.sh):
// a UDP probe sender to its peer and an echo. Both read the same settings, a VM from its
// kernel command line (warplab.send-port=…), a container from its environment
// (WARPLAB_SEND_PORT=…).
import type { WorkloadSpec } from '../topology/model.js';

export const APP_PORTS = { send: 5001, echo: 5000, reflect: 5002 } as const;

export function appSettings(w: WorkloadSpec): Record<string, string> {
  return {
    ...(w.app.peer ? { peer: w.app.peer } : {}),
    'send-port': String(APP_PORTS.send),
    'echo-port': String(APP_PORTS.echo),
    'reflect-port': String(APP_PORTS.reflect),
    'interval-us': String(Math.round(w.app.intervalMs * 1000)),
  };
}

/** The settings as a container's environment. */
export function appEnv(w: WorkloadSpec): string[] {
  return Object.entries(appSettings(w)).map(([k, v]) => `WARPLAB_${k.toUpperCase().replace(/-/g, '_')}=${v}`);
}
