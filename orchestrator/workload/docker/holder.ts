// The holder pattern: a workload container shares the network namespace of a tiny
// "holder" container (NetworkMode container:<holder>) that the orchestrator plumbs from
// outside (a veth moved into the holder's netns, with the workload's IP and MAC). A
// restore goes into a holder on the destination, plumbed the same way beforehand, so the
// restored sockets find their address and runc/CRIU never touch the network.
import { dockerMessage, type Dockerode } from './dockerode.js';
import { DockerEngineError } from './errors.js';
import { WORKLOAD_IMAGE } from './image.js';

export interface Holder {
  id: string;
  /** The holder's init as the host sees it. */
  pid: number;
  /** What `ip link set … netns` and `nsenter --net=` take. */
  netnsPath: string;
}

export const HOLDER_LABEL = 'org.warplab.holder';

/** Creates and starts a holder with no network but loopback (NetworkMode none). */
export async function createHolder(docker: Dockerode, name: string, image = WORKLOAD_IMAGE): Promise<Holder> {
  try {
    const c = await docker.createContainer({
      name,
      Image: image,
      // busybox sleep as PID 1: it ignores SIGTERM, so removal is always `force` (SIGKILL).
      Cmd: ['/bin/sleep', '2147483647'],
      Labels: { [HOLDER_LABEL]: '1' },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    const pid = (await c.inspect()).State.Pid;
    return { id: c.id, pid, netnsPath: `/proc/${pid}/ns/net` };
  } catch (e) {
    throw new DockerEngineError(`cannot start holder ${name}: ${dockerMessage(e)}`);
  }
}

/** `container:<id>`: the NetworkMode of a workload living in this holder. */
export function inHolder(holder: Pick<Holder, 'id'>): string {
  return `container:${holder.id}`;
}
