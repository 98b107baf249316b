// What the measuring steps (rtt, http) share: the name of their row in the measurement table
// and the scenario's reference text beside it.

export interface Labels {
  /** Default FROM→TO. */
  label: string;
  /** Quoted as written, never measured. */
  reference?: string;
}

/** From the YAML value or from parsed arguments (which keep both as they are). */
export function labels(a: { from: string; to: string; label?: string; reference?: string }): Labels {
  return { label: a.label ?? `${a.from}→${a.to}`, ...(a.reference !== undefined ? { reference: a.reference } : {}) };
}
