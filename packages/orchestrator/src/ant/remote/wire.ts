import { parseTaint } from '@myrmex/scheduling';
import { z } from 'zod';

/**
 * Remote ant protocol, version 1: JSON text frames over one WebSocket per ant (docs/remote-ants.md
 * is the reference). No ant-to-queen message names an ant: the connection's authenticated hello is
 * the only identity, so an ant can only ever speak for itself. Every incoming frame is validated
 * here, on both ends, before anything acts on it.
 */
export const PROTOCOL_VERSIONS = [1] as const;
export const PROTOCOL_VERSION = 1;

/** The WebSocket path on the queen's own port. */
export const ANT_SOCKET_PATH = '/api/ants/socket';

/** The header of the 400 a TLS queen answers plain HTTP with; an ant seeing it says to use wss://. */
export const TLS_REQUIRED_HEADER = 'x-myrmex-tls';

/** Artifact transfer over HTTP(S) on the same port: `<path>/<jobId>/<taskType>/<attempt>` (PUT a file, GET `/blobs/<digest>`). */
export const ANT_ARTIFACTS_PATH = '/api/ants/artifacts';

/** Close codes (4000-4999 are the application's). */
export const CLOSE = {
  /** Hello missing, malformed or with an unspoken version: do not retry with the same settings. */
  refused: 4001,
  /** Another connection registered the same ant id. */
  replaced: 4002,
  /** No heartbeat within the expiry. */
  expired: 4003,
  /** A frame that is not protocol. */
  protocol: 4004,
  /** The queen is shutting down: reconnect (to another queen). */
  goingAway: 1001,
  /** From the ant: it is stopping for good (drained or stopped) and will report nothing more. */
  stopping: 1000,
} as const;

const id = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');
const word = z.string().min(1).max(200);
const assignmentId = z.string().min(1).max(1000);

export const AntHelloSchema = z.object({
  id,
  methods: z.array(word).max(100),
  tags: z.array(word).max(100),
  labels: z.record(word, z.string().max(1000)).default({}),
  resources: z.record(word, z.string().max(100)).default({}),
  // Kubernetes-style `key=value:Effect`; an unreadable one refuses the hello, so the registry only holds good ones.
  taints: z
    .array(
      z
        .string()
        .max(300)
        .superRefine((text, ctx) => {
          try {
            parseTaint(text);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
          }
        }),
    )
    .max(50)
    .default([]),
  capacity: z.number().int().min(0).max(10_000),
  version: z.string().max(100).default('unknown'),
});
export type AntHelloDescriptor = z.infer<typeof AntHelloSchema>;

const logLine = z.object({ stream: z.enum(['stdout', 'stderr', 'system']), text: z.string(), at: z.number() });
export type WireLogLine = z.infer<typeof logLine>;

const attemptResult = z.object({
  succeeded: z.boolean(),
  exitCode: z.number().int().optional(),
  error: z.string().max(100_000).optional(),
  /** CPU time the attempt's processes used, ms (SHELL), for CPU-hours quotas (issue 17). */
  cpuMs: z.number().int().min(0).optional(),
  /** The cache the attempt saved (its archive uploaded first: ANT_ARTIFACTS_PATH with `cache=true`). */
  cache: z
    .object({ key: z.string().min(1).max(1000), digest: z.string().max(100), size: z.number().int().min(0), expiresAt: z.number() })
    .optional(),
});

export const AntFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    versions: z.array(z.number().int()).min(1).max(20),
    ant: AntHelloSchema,
    /** Assignments still running on the ant (a reconnect resumes them). */
    running: z.array(assignmentId).max(10_000).default([]),
    draining: z.boolean().default(false),
  }),
  z.object({ type: z.literal('ack'), assignmentId }),
  z.object({
    type: z.literal('logs'),
    assignmentId,
    batch: z.number().int().min(0),
    lines: z.array(logLine).max(10_000),
    /** Lines the ant dropped before this batch because its buffer was full. */
    dropped: z.number().int().min(0).default(0),
  }),
  z.object({
    type: z.literal('result'),
    assignmentId,
    result: attemptResult,
    outputs: z.record(z.string().max(1000), z.string().max(1_000_000)).default({}),
  }),
  z.object({ type: z.literal('heartbeat'), running: z.array(assignmentId).max(10_000), at: z.number() }),
  z.object({ type: z.literal('draining') }),
]);
export type AntFrame = z.infer<typeof AntFrameSchema>;

const spec = z.object({
  method: z.string(),
  script: z.array(z.string()),
  environment: z.record(z.string(), z.string()),
  url: z.string().optional(),
  headers: z.record(z.string(), z.string()),
  query: z.record(z.string(), z.string()),
  body: z.unknown().optional(),
  timeoutMs: z.number().optional(),
  container: z.any().optional(),
  messaging: z.object({ requestQueue: z.string(), replyQueue: z.string().optional() }).optional(),
  /** What to collect after the attempt and upload (ANT_ARTIFACTS_PATH). */
  artifacts: z
    .object({
      paths: z.array(z.string()),
      expiresAfterMs: z.number().optional(),
      when: z.enum(['always', 'on_success', 'on_failure']).optional(),
    })
    .optional(),
  /** Files of earlier tasks to download and place in the working directory first. */
  dependencies: z
    .array(
      z.object({
        taskType: z.string(),
        files: z.array(z.object({ path: z.string(), digest: z.string(), size: z.number().int().min(0), mode: z.number().int() })),
      }),
    )
    .optional(),
  reportStdout: z.boolean().optional(),
  /** `cache`: the saved archive the key names is downloaded when restored; the one saved after is uploaded. */
  cache: z
    .object({
      key: z.string().optional(),
      keyPaths: z.array(z.string()).optional(),
      paths: z.array(z.string()),
      expiresAfterMs: z.number(),
      saved: z.record(z.string(), z.object({ digest: z.string(), size: z.number().int().min(0) })),
    })
    .optional(),
  /** A task fan-out: the children this ant runs, each a spec of its own (job fan-outs stay on the queen's ant). */
  get fanOut() {
    return z
      .object({
        itemVar: z.string(),
        source: z.string(),
        labels: z.array(z.string()),
        maxParallel: z.number().int().min(1).optional(),
        failFast: z.boolean(),
        successThreshold: z.number().min(0).max(100),
        tasks: z.array(spec).optional(),
        done: z.record(z.string(), z.record(z.string(), z.string())).optional(),
      })
      .optional();
  },
});

export const QueenFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), version: z.number().int(), queen: z.string(), heartbeatMs: z.number().int().positive() }),
  z.object({ type: z.literal('refused'), reason: z.string(), versions: z.array(z.number().int()) }),
  z.object({
    type: z.literal('assign'),
    assignment: z.object({
      id: assignmentId,
      jobId: z.string(),
      taskType: z.string(),
      /** The fencing token: only this attempt number's result can be accepted. */
      attempt: z.number().int().min(1),
      spec,
    }),
  }),
  z.object({ type: z.literal('cancel'), assignmentId, reason: z.string(), graceMs: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('logs-ack'), assignmentId, batch: z.number().int().min(0) }),
  z.object({ type: z.literal('result-ack'), assignmentId, accepted: z.boolean() }),
  z.object({ type: z.literal('drain'), reason: z.string() }),
]);
export type QueenFrame = z.infer<typeof QueenFrameSchema>;

/** Parses one text frame; the error names the field that is wrong. */
export function parseFrame<T>(schema: z.ZodType<T>, text: string): { ok: true; frame: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, error: `${issue.path.join('.') || 'frame'}: ${issue.message}` };
}

/** The newest version both ends speak, or undefined. */
export function negotiate(offered: readonly number[]): number | undefined {
  return [...PROTOCOL_VERSIONS].reverse().find((v) => offered.includes(v));
}
