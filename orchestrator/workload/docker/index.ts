// Container workloads on a per-lab Docker engine: start/attach/reap the engine, holders,
// checkpoint and restore (CRIU through dockerd), commands in a container.
export { checkpoint, checkpointDir, migrate, restoreInto, startFromCheckpoint } from './checkpoint.js';
export type { CheckpointResult, MigrationResult, RestoreResult, RestoreSpec } from './checkpoint.js';
export { connectDocker, dockerMessage } from './dockerode.js';
export type { CreateContainerOptions, Dockerode, DockerContainer } from './dockerode.js';
export { attachEngine, CRIU_UNAVAILABLE, DEFAULT_CRIU, reapEngine, startEngine } from './engine.js';
export type { DockerEngine, StartEngineOptions } from './engine.js';
export { CheckpointError, DockerEngineError, RestoreError } from './errors.js';
export { execInContainer } from './exec.js';
export { createHolder, inHolder } from './holder.js';
export type { Holder } from './holder.js';
export { ensureWorkloadImage, WORKLOAD_IMAGE, workloadRootfs } from './image.js';
export { engineLayout } from './layout.js';
