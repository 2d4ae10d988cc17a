import type { KeyObject } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import type { Envelope, SmSettings } from '../sm/general.js';

/** What a worker needs to host its generals for an OM run. */
export interface OmSetup {
  readonly mode: 'om';
  readonly generals: number;
  readonly rounds: number;
  readonly traitors: readonly number[];
  readonly orderCode: number;
  readonly strategyCode: number;
  readonly seed: number;
  readonly valueCount: number;
}

export interface SmSetup {
  readonly mode: 'sm';
  readonly settings: SmSettings;
  readonly publicKeys: readonly KeyObject[];
  /** Private keys of the generals this worker hosts, by id. */
  readonly privateKeys: Readonly<Record<number, KeyObject>>;
}

/** The first message to a worker: who it is, its generals, a port to send to every worker and one to receive from each (itself included). */
export interface WorkerInit {
  readonly worker: number;
  readonly workers: number;
  readonly hosted: readonly number[];
  readonly ports: readonly MessagePort[];
  readonly inbound: readonly MessagePort[];
  readonly setup: OmSetup | SmSetup;
}

/** One round's messages from one worker to another. OM messages are three parallel typed arrays. */
export type Batch =
  | { readonly round: number; readonly from: number; readonly to: Int32Array; readonly index: Uint32Array; readonly value: Uint16Array }
  | { readonly round: number; readonly from: number; readonly envelopes: readonly Envelope[] };

export type ToWorker = { readonly type: 'init'; readonly init: WorkerInit } | { readonly type: 'go' };

export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'done';
      readonly decisions: readonly [number, string | number][];
      readonly messages: number;
      readonly discarded: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** The worker that hosts general `id`: generals are dealt round-robin so each core gets a fair share. */
export const hostOf = (id: number, workers: number) => id % workers;
