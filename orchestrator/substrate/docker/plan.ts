// What the docker substrate asks the engine and the kernel for, as plain data: each node's
// container (name, image, labels, command) and the veths between the containers' PIDs.
// Kept pure so unit tests read it without root or an engine.
import type { LabState } from '../../lab/state.js';
import type { NodeSpec } from '../../topology/model.js';
import type { CreateContainerOptions } from '../../workload/docker/index.js';
import { WORKLOAD_IMAGE } from '../../workload/docker/index.js';
import { nsName, type Wire } from '../netns/plan.js';

/** containerlab's practice: ownership in labels, removal by label. */
export const LABELS = { lab: 'warplab.lab', labId: 'warplab.lab-id', node: 'warplab.node', kind: 'warplab.kind' } as const;

/** warplab's node image: the workload image's busybox (ip, ping, sysctl…) and probe programs. */
export const NODE_IMAGE = WORKLOAD_IMAGE;

/** How the state records a running node's namespace (OwnedObject `netns`, entered by path). */
export const NODE_OBJECT = 'docker-node';

export const containerName = nsName;

/** The image each node runs, after checking which are on the engine. */
export interface ImageChoice {
  node: string;
  image: string;
  /** The image the node named, when warplab's runs instead (it is not on the engine). */
  substitutes?: string;
}

/**
 * A named image that is not on the engine is never pulled (no registry here): a node that
 * allows it (a containerlab `linux` node) runs warplab's image instead, unless `strict`;
 * any other is an error that says how to provide the image.
 */
export function chooseImages(nodes: readonly NodeSpec[], present: ReadonlySet<string>, strict: boolean): { choices: ImageChoice[]; errors: string[] } {
  const choices: ImageChoice[] = [];
  const errors: string[] = [];
  for (const n of nodes) {
    const wanted = n.container?.image;
    if (!wanted || wanted === NODE_IMAGE || present.has(wanted)) {
      choices.push({ node: n.name, image: wanted ?? NODE_IMAGE });
    } else if (n.container?.substituteMissingImage && !strict) {
      choices.push({ node: n.name, image: NODE_IMAGE, substitutes: wanted });
    } else {
      errors.push(`node ${n.name}: image ${wanted} is not on the Docker engine, and warplab never pulls (no registry is reachable): provide it with \`docker save ${wanted} | docker -H unix://SOCKET load\` or \`docker import ROOTFS.tar ${wanted}\`${n.container?.substituteMissingImage ? ', or drop --strict-images to run warplab\'s node image instead' : ''}`);
    }
  }
  return { choices, errors };
}

/** One node's container: no network but loopback (warplab plumbs its links), the lab's mark and labels. */
export function nodeContainer(state: LabState, n: NodeSpec, image: string): CreateContainerOptions {
  const c = n.container;
  const own = image !== NODE_IMAGE;
  // warplab's image: busybox sleep as PID 1 (removal is always forced). A foreign image keeps
  // its own command with a terminal, so a shell entrypoint stays up, as under containerlab.
  const cmd = c?.cmd ? ['/bin/sh', '-c', c.cmd] : own ? undefined : ['/bin/sleep', '2147483647'];
  return {
    name: containerName(state.name, n.name),
    Hostname: n.name,
    Image: image,
    ...(cmd ? { Cmd: cmd } : {}),
    Env: [`WARPLAB_LAB=${state.mark}`, ...Object.entries(c?.env ?? {}).map(([k, v]) => `${k}=${v}`)],
    Labels: { [LABELS.lab]: state.name, [LABELS.labId]: state.id, [LABELS.node]: n.name, [LABELS.kind]: n.kind },
    ...(own && !c?.cmd ? { Tty: true, OpenStdin: true } : {}),
    HostConfig: {
      NetworkMode: 'none',
      // `exec:` lines set addresses and sysctls from inside, as on containerlab's privileged
      // nodes; not privileged itself, which asks for every capability and fails where the
      // bounding set lacks one (CAP_SYS_RESOURCE on some machines of this kind).
      CapAdd: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'],
      MaskedPaths: [],
      ReadonlyPaths: [],
      ...(c?.binds.length ? { Binds: c.binds } : {}),
    },
  };
}

/** The netns substrate's wires with each end's namespace named by its container's PID, which `ip link … netns` takes. */
export function pidWires(wires: readonly Wire[], pids: ReadonlyMap<string, number>): Wire[] {
  const end = (e: Wire['a']) => ({ ...e, ns: String(pids.get(e.node)) });
  return wires.map((w) => ({ ...w, a: end(w.a), b: end(w.b) }));
}

/** A docker host given as `unix:///path` or a path; anything else (tcp://) cannot be plumbed from here. */
export function dockerSocket(host: string): string | undefined {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  return host.startsWith('/') ? host : undefined;
}
