import { parseTaint, type Taint } from '@myrmex/scheduling';
import { plus, quantities } from '../domain/quantities.js';
import type { AntInfo, AntSlot } from '../domain/types.js';
import { ANT_LOST, type AntDescriptor, type AntMessage, type Assignment, type QueenMessage } from './protocol.js';

/** What a remote ant registered beyond the embedded ant's descriptor. */
export interface AntDetails {
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, string>>;
  readonly taints?: readonly string[];
  readonly version: string;
  /** The organisation its token binds it to (only its jobs are claimed for it); absent for a shared ant. */
  readonly org?: string;
}

/** An ant's labels, resources and taints as written (`cpu=8,memory=16Gi`, `gpu=true:NoSchedule`). */
export interface Advertised {
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, string>>;
  readonly taints?: readonly string[];
}

const NOTHING: Advertised = { labels: {}, resources: {} };

interface Connection {
  readonly descriptor: AntDescriptor;
  readonly send: (message: QueenMessage) => void;
  readonly assignments: Set<string>;
  /** Whose lease the ant's attempts are held under: the queen (embedded ant) or the ant itself (remote). */
  readonly owner?: string;
  readonly details?: AntDetails;
  /** Labels and resources as advertised (the embedded ant's come from `--ant-labels`/`--ant-resources`). */
  readonly advertised: Advertised;
  /** The advertised resources in the definitions' units. */
  readonly capacity: Readonly<Record<string, number>>;
  readonly taints: readonly Taint[];
  /** What each running assignment requested, by assignment id (adopted ones after a reconnect are unknown: none). */
  readonly reserved: Map<string, Readonly<Record<string, number>>>;
  draining: boolean;
  lastSeenAt: number;
}

export interface AntRegistryHooks {
  /** A message other than register/heartbeat, from a known ant; resolves once it is recorded (what acks wait for). */
  message(message: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>): Promise<unknown>;
  /** An ant registered or sent a heartbeat. */
  seen(info: AntInfo): void;
}

/** One attached ant as its transport sees it: messages in, and the end of the connection. */
export interface AntLink {
  /** Progress or a result from this ant; resolves once recorded. Its `antId` is replaced: the link is the identity. */
  receive(message: Extract<AntMessage, { type: 'progress' } | { type: 'result' }>): Promise<unknown>;
  /** The ant was heard from (a heartbeat, any frame). */
  touch(): void;
  /** Ends this link (a newer link of the same ant is left alone). */
  detach(): void;
  setDraining(draining: boolean): void;
  /** Assignments of this ant found still running after a reconnect. */
  adopt(assignmentIds: readonly string[]): void;
  owns(assignmentId: string): boolean;
  info(): AntInfo;
}

/** The queen's resource manager: which ants exist, what they can run, and how busy they are. */
export class AntRegistry {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly hooks: AntRegistryHooks) {}

  /** Returns the function the ant's transport calls with each message (the embedded ant's in-process transport). */
  connect(send: (message: QueenMessage) => void, advertised: Advertised = NOTHING): (message: AntMessage) => void {
    const capacity = quantities(advertised.resources);
    const taints = (advertised.taints ?? []).map(parseTaint);
    return (message) => {
      if (message.type === 'register') {
        this.connections.set(message.ant.id, {
          descriptor: message.ant,
          send,
          assignments: new Set(),
          advertised,
          capacity,
          taints,
          reserved: new Map(),
          draining: false,
          lastSeenAt: Date.now(),
        });
        this.hooks.seen(this.info(message.ant.id)!);
        return;
      }
      const connection = this.connections.get(message.antId);
      if (connection) void this.deliver(connection, message);
    };
  }

  /**
   * Attaches an authenticated remote ant. Every message that comes through the returned link is
   * taken as the ant's own, whatever id it carries; a second attach of the same id replaces the first.
   */
  attach(descriptor: AntDescriptor, details: AntDetails, owner: string, send: (message: QueenMessage) => void): AntLink {
    const connection: Connection = {
      descriptor,
      send,
      assignments: new Set(),
      owner,
      details,
      advertised: details,
      capacity: quantities(details.resources),
      taints: (details.taints ?? []).map(parseTaint),
      reserved: new Map(),
      draining: false,
      lastSeenAt: Date.now(),
    };
    this.connections.set(descriptor.id, connection);
    const current = () => this.connections.get(descriptor.id) === connection;
    return {
      receive: async (message) => (current() ? this.deliver(connection, { ...message, antId: descriptor.id }) : false),
      touch: () => {
        connection.lastSeenAt = Date.now();
      },
      detach: () => {
        if (current()) this.connections.delete(descriptor.id);
      },
      setDraining: (draining) => {
        connection.draining = draining;
      },
      adopt: (ids) => {
        for (const id of ids) connection.assignments.add(id);
      },
      owns: (id) => connection.assignments.has(id),
      info: () => this.describe(connection),
    };
  }

  private async deliver(connection: Connection, message: Exclude<AntMessage, { type: 'register' }>): Promise<unknown> {
    connection.lastSeenAt = Date.now();
    if (message.type === 'heartbeat') {
      this.hooks.seen(this.describe(connection));
      return;
    }
    if (message.type === 'result') {
      connection.assignments.delete(message.assignmentId);
      connection.reserved.delete(message.assignmentId);
    }
    return this.hooks.message(message);
  }

  /** The lease owner of attempts given to `antId`: the ant itself when remote, undefined (the queen) when embedded. */
  ownerOf(antId: string): string | undefined {
    return this.connections.get(antId)?.owner;
  }

  slots(): AntSlot[] {
    return [...this.connections.values()].map((c) => ({
      id: c.descriptor.id,
      methods: new Set(c.descriptor.methods),
      tags: new Set(c.descriptor.tags),
      // A draining ant keeps its running work but takes nothing new.
      capacity: c.draining ? 0 : c.descriptor.capacity,
      running: c.assignments.size,
      ...(c.details?.org === undefined ? {} : { org: c.details.org }),
      labels: c.advertised.labels,
      resources: c.capacity,
      ...(c.taints.length > 0 && { taints: c.taints }),
      used: [...c.reserved.values()].reduce<Record<string, number>>((sum, resources) => plus(sum, resources), {}),
    }));
  }

  freeSlots(): number {
    let free = 0;
    for (const c of this.connections.values()) if (!c.draining) free += Math.max(0, c.descriptor.capacity - c.assignments.size);
    return free;
  }

  running(): number {
    let running = 0;
    for (const c of this.connections.values()) running += c.assignments.size;
    return running;
  }

  /** Sends the assignment; `resources` are counted against the ant's until its result comes back. */
  assign(antId: string, assignment: Assignment, resources: Readonly<Record<string, number>> = {}): void {
    const connection = this.connections.get(antId);
    // Gone between its placement and now: the attempt ends as any attempt an ant lost does (retry policy applies).
    if (!connection) throw new Error(`${ANT_LOST}: ${antId} disconnected before its assignment was sent`);
    connection.assignments.add(assignment.id);
    if (Object.keys(resources).length > 0) connection.reserved.set(assignment.id, resources);
    connection.send({ type: 'assign', assignment });
  }

  /** Assignment ids of `jobId` running on this queen's ants. */
  assignmentsOf(jobId: string): string[] {
    const prefix = `${jobId}/`;
    const found: string[] = [];
    for (const c of this.connections.values()) for (const id of c.assignments) if (id.startsWith(prefix)) found.push(id);
    return found;
  }

  /** Assignment ids running on the ants whose attempts `owner` holds (undefined: the embedded ant's, held by the queen). */
  assignmentsHeldBy(owner: string | undefined): string[] {
    const found: string[] = [];
    for (const c of this.connections.values()) if (c.owner === owner) found.push(...c.assignments);
    return found;
  }

  /** Asks whichever ant runs the assignment to stop it; `graceMs` is how long it may take after it is signalled. */
  cancel(assignmentId: string, reason: string, graceMs?: number): void {
    const message = { type: 'cancel' as const, assignmentId, reason, ...(graceMs === undefined ? {} : { graceMs }) };
    for (const connection of this.connections.values()) {
      if (connection.assignments.has(assignmentId)) connection.send(message);
    }
  }

  info(antId: string): AntInfo | undefined {
    const c = this.connections.get(antId);
    return c && this.describe(c);
  }

  private describe(c: Connection): AntInfo {
    const { id, methods, tags, capacity } = c.descriptor;
    return {
      id,
      methods,
      tags,
      capacity,
      running: c.assignments.size,
      lastSeenAt: new Date(c.lastSeenAt),
      remote: c.owner !== undefined,
      connected: true,
      draining: c.draining,
      assignments: [...c.assignments],
      ...c.advertised,
      ...(c.details ?? {}),
    };
  }

  list(): AntInfo[] {
    return [...this.connections.values()].map((c) => this.describe(c));
  }
}

/** Ants from the shared registry (any queen's) as the scheduler's slots: what "no ant can run this" is judged against. */
export function slotsOf(ants: readonly AntInfo[]): AntSlot[] {
  return ants
    .filter((ant) => ant.connected !== false)
    .map((ant) => ({
      id: ant.id,
      methods: new Set(ant.methods),
      tags: new Set(ant.tags),
      capacity: ant.draining ? 0 : ant.capacity,
      running: ant.running,
      ...(ant.org === undefined ? {} : { org: ant.org }),
      labels: ant.labels ?? {},
      resources: advertisedCapacity(ant),
      ...(ant.taints && ant.taints.length > 0 && { taints: ant.taints.map(parseTaint) }),
    }));
}

/** An ant's advertised resources in the definitions' units; a row written by an older Myrmex with a bad quantity counts as unmetered. */
function advertisedCapacity(ant: AntInfo): Record<string, number> {
  try {
    return quantities(ant.resources ?? {});
  } catch {
    return {};
  }
}
