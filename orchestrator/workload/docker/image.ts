// The workload image: agents/build/workload-rootfs.tar, `docker import`ed (there is no
// registry). Imported once per engine, again only when the tarball's content changed.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { dockerMessage, type Dockerode } from './dockerode.js';
import { DockerEngineError } from './errors.js';

export const WORKLOAD_IMAGE = 'warplab/workload:latest';
export const workloadRootfs = join(packageRoot, 'agents', 'build', 'workload-rootfs.tar');
/** The tarball's sha256, kept on the image so a changed tarball is noticed. */
export const ROOTFS_LABEL = 'org.warplab.rootfs-sha256';

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Imports `tar` as WORKLOAD_IMAGE unless the image already holds that content. */
export async function ensureWorkloadImage(docker: Dockerode, tar = workloadRootfs): Promise<{ image: string; imported: boolean }> {
  if (!existsSync(tar)) throw new DockerEngineError(`${tar} is missing: build it with \`make -C agents/container-image\` (or \`bash ci/setup.sh\`)`);
  const hash = await sha256(tar);
  try {
    const info = await docker.getImage(WORKLOAD_IMAGE).inspect();
    if (info.Config?.Labels?.[ROOTFS_LABEL] === hash) return { image: WORKLOAD_IMAGE, imported: false };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw new DockerEngineError(`cannot inspect ${WORKLOAD_IMAGE}: ${dockerMessage(e)}`);
  }
  const [repo, tag] = WORKLOAD_IMAGE.split(':') as [string, string];
  try {
    const progress = await docker.importImage(tar, { repo, tag, changes: ['CMD ["/app.sh"]', `LABEL ${ROOTFS_LABEL}=${hash}`] });
    const out = await new Promise<unknown[]>((res, rej) => docker.modem.followProgress(progress, (err, o) => (err ? rej(err) : res(o))));
    // A failed import still answers 200: the error is in the stream.
    const failed = out.find((m): m is { error: string } => typeof (m as { error?: unknown }).error === 'string');
    if (failed) throw new Error(failed.error);
  } catch (e) {
    throw new DockerEngineError(`cannot import ${tar} as ${WORKLOAD_IMAGE}: ${dockerMessage(e)}`);
  }
  return { image: WORKLOAD_IMAGE, imported: true };
}
