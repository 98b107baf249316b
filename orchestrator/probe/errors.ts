import { WarplabError } from '../errors.js';

/** The UDP probe could not be built, started, or its log read. */
export class ProbeError extends WarplabError {
  override name = 'ProbeError';
}
