// How warplab reaches a topology's host: its settings in the topology, completed by the SSH
// client configuration (HostName, Port, User, IdentityFile, UserKnownHostsFile, ProxyCommand)
// for its `ssh-config` alias or, without one, its address. One connection per host and
// process, shared by every Shell on it, closed by closeSshConnections(), which also forgets
// the configuration read.
import { defaultSshConfigFile, expandProxyCommand, proxyStream, readSshConfig } from '../../shell/ssh-config.js';
import { SshConnection, type ConnectionOptions, type SshHost } from '../../shell/ssh.js';
import type { HostSpec } from '../../topology/model.js';

export interface HostTarget {
  host: SshHost;
  connection: ConnectionOptions;
  /** How it is reached, for messages: `root@10.99.0.11:22 via ProxyCommand`. */
  route: string;
}

/**
 * The topology's key file and known_hosts win over the configuration's, as flags win over
 * ssh_config in `ssh`; its user and port are defaults, so the configuration's win over them.
 * The address stays the underlay address, which the tunnels use; SSH goes to HostName if set.
 */
export function hostTarget(spec: HostSpec, configFile = defaultSshConfigFile()): HostTarget {
  const c = configFile ? readSshConfig(configFile, spec.sshConfig ?? spec.address) : {};
  const address = c.hostName ?? spec.address;
  const port = c.port ?? spec.port;
  const user = c.user ?? spec.user;
  const host: SshHost = {
    name: spec.name,
    address,
    port,
    user,
    ...((spec.keyFile ?? c.identityFile) ? { keyFile: spec.keyFile ?? c.identityFile } : {}),
    ...(c.identityAgent ? { agent: c.identityAgent } : {}),
    ...((spec.knownHosts ?? c.userKnownHostsFile) ? { knownHosts: spec.knownHosts ?? c.userKnownHostsFile } : {}),
    ...(spec.fingerprint ? { fingerprint: spec.fingerprint } : {}),
  };
  const proxy = c.proxyCommand && expandProxyCommand(c.proxyCommand, address, port, user);
  return { host, connection: proxy ? { dial: () => proxyStream(proxy) } : {}, route: `${user}@${address}:${port}${proxy ? ' via ProxyCommand' : ''}` };
}

const open = new Map<string, SshConnection>();
/** Each host's target per configuration file, read once: a switch or a placed file asks for the connection every time. */
const targets = new Map<string, HostTarget>();

/** The connection to a host, shared within this process: keyed by everything that reaches it. */
export function connectionTo(spec: HostSpec): SshConnection {
  const file = defaultSshConfigFile();
  const targetKey = JSON.stringify([spec, file ?? null]);
  let t = targets.get(targetKey);
  if (!t) targets.set(targetKey, (t = hostTarget(spec, file)));
  const key = JSON.stringify([t.host, t.route]);
  let c = open.get(key);
  if (!c || c.isClosed) {
    c = new SshConnection(t.host, t.connection);
    open.set(key, c);
  }
  return c;
}

/** Lets the process end: an open SSH connection keeps Node's event loop alive. */
export function closeSshConnections(): void {
  for (const c of open.values()) c.close();
  open.clear();
  targets.clear();
}
