import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Gate, isCi, openGate } from '@myrmex/test-utils';

const run = promisify(execFile);
const ip = async (...args: string[]): Promise<string> => (await run('ip', args)).stdout;

/**
 * Every name carries the pid of the test process that made it (`mxr<pid>…`), so a run cleans up
 * what a crashed earlier run left (its pid is dead) without touching a concurrent run's network.
 */
const PREFIX = 'mxr';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Our links in the root namespace: the bridges and the root ends of the veth pairs. */
async function rootLinks(): Promise<string[]> {
  return (await ip('-o', 'link', 'show'))
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
}

const namespaces = async (): Promise<string[]> => (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0] ?? '');

/**
 * Deletes the links, then the namespaces, whose names `mine` picks. Links first and explicitly: a
 * deleted namespace lets go of its veth ends lazily, and a name still taken fails the next run.
 */
async function remove(mine: (name: string) => boolean): Promise<void> {
  for (const link of (await rootLinks()).filter(mine)) await ip('link', 'del', link).catch(() => undefined);
  for (const ns of (await namespaces()).filter(mine)) await ip('netns', 'del', ns).catch(() => undefined);
}

/** What runs whose process is gone left behind (a crash skips their cleanup). */
function sweepOrphans(): Promise<void> {
  return remove((name) => {
    const pid = new RegExp(`^${PREFIX}(\\d+)[nbv]`).exec(name)?.[1];
    return pid !== undefined && !alive(Number(pid));
  });
}

/**
 * Whether this machine lets us make network namespaces (root, `ip` installed, a kernel that allows
 * it). Outside CI a missing capability skips the suites loudly; under CI=true it fails them.
 */
export function netnsGate(): Promise<Gate> {
  return openGate({
    service: 'network namespaces (ip netns, as root)',
    url: 'ip netns',
    ci: isCi(),
    timeoutMs: 10_000,
    probe: async () => {
      const probe = `${PREFIX}${process.pid}nprobe`;
      await ip('netns', 'add', probe);
      await ip('netns', 'del', probe);
    },
  });
}

/** A namespace on the test network: a host with its own address, whose cable can be pulled. */
export interface Host {
  readonly name: string;
  /** The namespace: run a process in it with `ip netns exec <ns> …`. */
  readonly ns: string;
  readonly address: string;
  /**
   * The host's link goes down (`ip link set eth0 down` in its namespace): its connections go silent
   * and new ones fail at once (no route) until `restore()`.
   */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

/**
 * A little LAN of network namespaces on a bridge in the root namespace (which has the first
 * address, so a host can reach a server on the test machine that listens on it). Each host is
 * joined by a veth pair whose root end is a port of the bridge.
 */
export class Lan {
  /** The next host's last address byte (.1 is the root namespace's), taken before any await: hosts are made concurrently. */
  private next = 2;
  private readonly bridge: string;
  /** 10.x.y.0/24, x.y from the pid: concurrent runs do not share a subnet. */
  private readonly subnet: string;

  private constructor() {
    this.bridge = `${PREFIX}${process.pid}b`;
    this.subnet = `10.${100 + ((process.pid >> 8) % 150)}.${process.pid & 255}`;
  }

  get rootAddress(): string {
    return `${this.subnet}.1`;
  }

  static async open(): Promise<Lan> {
    await sweepOrphans();
    const lan = new Lan();
    // Left by this very process (a test that failed before close) is stale too.
    await lan.close();
    await ip('link', 'add', lan.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${lan.rootAddress}/24`, 'dev', lan.bridge);
    await ip('link', 'set', lan.bridge, 'up');
    return lan;
  }

  async host(name: string): Promise<Host> {
    const n = this.next++;
    const ns = `${PREFIX}${process.pid}n${name}`;
    const cable = `${PREFIX}${process.pid}v${n}`;
    const address = `${this.subnet}.${n}`;
    await ip('netns', 'add', ns);
    await ip('link', 'add', cable, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('link', 'set', cable, 'master', this.bridge, 'up');
    const inside = (...args: string[]) => ip('-n', ns, ...args);
    await inside('link', 'set', 'lo', 'up');
    await inside('addr', 'add', `${address}/24`, 'dev', 'eth0');
    await inside('link', 'set', 'eth0', 'up');
    // Every peer (the root namespace included) is on this /24: no default route, so none to restore.
    const host: Host = {
      name,
      ns,
      address,
      cut: async () => void (await inside('link', 'set', 'eth0', 'down')),
      restore: async () => void (await inside('link', 'set', 'eth0', 'up')),
    };
    return host;
  }

  /** Deletes every link and namespace of this process; idempotent. */
  async close(): Promise<void> {
    const mine = `${PREFIX}${process.pid}`;
    await remove((name) => new RegExp(`^${mine}[nbv]`).test(name));
    this.next = 2;
  }
}
