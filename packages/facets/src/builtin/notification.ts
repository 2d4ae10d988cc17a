import { Facet } from '../core/facet.js';
import { AuditFacet } from './audit.js';
import { objectConfig } from './config.js';

export type NotificationHandler = (payload: unknown, topic: string) => void | Promise<void>;

export interface NotificationFailure {
  readonly topic: string;
  readonly error: unknown;
}

export interface NotifyReport {
  readonly topic: string;
  /** Handlers that returned (or resolved) without error. */
  readonly delivered: number;
  readonly failures: readonly NotificationFailure[];
}

export interface NotificationOptions {
  /** Told about every failing handler, after the others have run. */
  readonly onError?: (failure: NotificationFailure) => void;
}

/** Subscribers for any topic use this one. */
export const ALL_TOPICS = '*';

/**
 * Publish/subscribe on one object. Every handler runs even when others throw or reject: a
 * failure is reported in the result, passed to `onError`, and recorded in the owner's
 * AuditFacet when one is attached, never thrown at the publisher.
 */
export class NotificationFacet extends Facet {
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  readonly #onError: ((failure: NotificationFailure) => void) | undefined;

  constructor(options: NotificationOptions = {}) {
    super();
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new TypeError('NotificationFacet: options.onError must be a function');
    }
    this.#onError = options.onError;
  }

  static parseConfig(raw: unknown): NotificationOptions {
    objectConfig(raw, [], 'notification');
    return {};
  }

  /** Subscribes to `topic` (or `*` for all); returns the unsubscribe function. */
  subscribe(topic: string, handler: NotificationHandler): () => void {
    if (typeof topic !== 'string' || topic.length === 0)
      throw new TypeError('NotificationFacet.subscribe: topic must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError('NotificationFacet.subscribe: handler must be a function');
    let set = this.#handlers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#handlers.set(topic, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  subscribers(topic: string): number {
    return (this.#handlers.get(topic)?.size ?? 0) + (topic === ALL_TOPICS ? 0 : (this.#handlers.get(ALL_TOPICS)?.size ?? 0));
  }

  /** Calls every handler of `topic` and of `*` and waits for all of them, isolating failures. */
  async notify(topic: string, payload?: unknown): Promise<NotifyReport> {
    if (typeof topic !== 'string' || topic.length === 0 || topic === ALL_TOPICS) {
      throw new TypeError(`NotificationFacet.notify: topic must be a non-empty string other than '${ALL_TOPICS}'`);
    }
    const handlers = [...(this.#handlers.get(topic) ?? []), ...(this.#handlers.get(ALL_TOPICS) ?? [])];
    const outcomes = await Promise.allSettled(handlers.map(async (handler) => handler(payload, topic)));
    const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [{ topic, error: outcome.reason as unknown }] : []));
    for (const failure of failures) this.#report(failure);
    return { topic, delivered: outcomes.length - failures.length, failures };
  }

  #report(failure: NotificationFailure): void {
    if (this.attached) {
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      this.faceted.get(AuditFacet)?.record('notification.failed', { topic: failure.topic, error: message });
    }
    try {
      this.#onError?.(failure);
    } catch {
      // An error reporter that itself fails must not turn an isolated failure into the publisher's problem.
    }
  }
}
