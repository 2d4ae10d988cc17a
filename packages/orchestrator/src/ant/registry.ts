import type { AntInfo, AntSlot } from '../domain/types.js';
import type { AntDescriptor, AntMessage, Assignment, QueenMessage } from './protocol.js';

interface Connection {
  readonly descriptor: AntDescriptor;
  readonly send: (message: QueenMessage) => void;
  readonly assignments: Set<string>;
  lastSeenAt: number;
}

export interface AntRegistryHooks {
  /** A message other than register/heartbeat, from a known ant. */
  message(message: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>): void;
  /** An ant registered or sent a heartbeat. */
  seen(info: AntInfo): void;
}

/** The queen's resource manager: which ants exist, what they can run, and how busy they are. */
export class AntRegistry {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly hooks: AntRegistryHooks) {}

  /** Returns the function the ant's transport calls with each message. */
  connect(send: (message: QueenMessage) => void): (message: AntMessage) => void {
    return (message) => {
      if (message.type === 'register') {
        this.connections.set(message.ant.id, { descriptor: message.ant, send, assignments: new Set(), lastSeenAt: Date.now() });
        this.hooks.seen(this.info(message.ant.id)!);
        return;
      }
      const connection = this.connections.get(message.antId);
      if (!connection) return;
      connection.lastSeenAt = Date.now();
      if (message.type === 'heartbeat') {
        this.hooks.seen(this.info(message.antId)!);
        return;
      }
      if (message.type === 'result') connection.assignments.delete(message.assignmentId);
      this.hooks.message(message);
    };
  }

  slots(): AntSlot[] {
    return [...this.connections.values()].map((c) => ({
      id: c.descriptor.id,
      methods: new Set(c.descriptor.methods),
      tags: new Set(c.descriptor.tags),
      capacity: c.descriptor.capacity,
      running: c.assignments.size,
    }));
  }

  freeSlots(): number {
    let free = 0;
    for (const c of this.connections.values()) free += Math.max(0, c.descriptor.capacity - c.assignments.size);
    return free;
  }

  running(): number {
    let running = 0;
    for (const c of this.connections.values()) running += c.assignments.size;
    return running;
  }

  assign(antId: string, assignment: Assignment): void {
    const connection = this.connections.get(antId);
    if (!connection) throw new Error(`ant ${antId} is not connected`);
    connection.assignments.add(assignment.id);
    connection.send({ type: 'assign', assignment });
  }

  /** Assignment ids of `jobId` running on this queen's ants. */
  assignmentsOf(jobId: string): string[] {
    const prefix = `${jobId}/`;
    const found: string[] = [];
    for (const c of this.connections.values()) for (const id of c.assignments) if (id.startsWith(prefix)) found.push(id);
    return found;
  }

  /** Asks whichever ant runs the assignment to stop it. */
  cancel(assignmentId: string, reason: string): void {
    for (const connection of this.connections.values()) {
      if (connection.assignments.has(assignmentId)) connection.send({ type: 'cancel', assignmentId, reason });
    }
  }

  info(antId: string): AntInfo | undefined {
    const c = this.connections.get(antId);
    if (!c) return undefined;
    const { id, methods, tags, capacity } = c.descriptor;
    return { id, methods, tags, capacity, running: c.assignments.size, lastSeenAt: new Date(c.lastSeenAt) };
  }

  list(): AntInfo[] {
    return [...this.connections.keys()].map((id) => this.info(id)!);
  }
}
