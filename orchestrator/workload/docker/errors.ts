// Errors of the container workload's engine and migrations: callers branch on the class.
import { WarplabError } from '../../errors.js';

/** The per-lab Docker engine could not be started, reached or stopped. */
export class DockerEngineError extends WarplabError {
  override name = 'DockerEngineError';
}

/** A checkpoint (CRIU dump through dockerd) failed: the container keeps running. */
export class CheckpointError extends WarplabError {
  override name = 'CheckpointError';
}

/**
 * A restore failed. The source container and its checkpoint are untouched, so
 * `startFromCheckpoint(docker, source, name)` brings the workload back where it was.
 */
export class RestoreError extends WarplabError {
  override name = 'RestoreError';
  constructor(
    message: string,
    /** create: the container could not be made; copy: the images; start: CRIU restore. */
    readonly phase: 'create' | 'copy' | 'start',
  ) {
    super(message);
  }
}
