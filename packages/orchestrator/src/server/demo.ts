import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { DefinitionValidationError } from '../definition/index.js';
import { AWAITING_APPROVAL } from '../domain/approvals.js';
import { type JobState, type QueenService, TERMINAL_JOB_STATES, type TimelineEvent } from '../queen/service.js';

/** Enough of a UUID to tell the demo's jobs apart in a log line. */
const shortId = (id: string): string => id.slice(0, 8);

const DEFINITION_FILE = /\.(ya?ml|json)$/i;

/**
 * Extra requests that show the failure paths of two examples; each is submitted only when its job
 * type was applied, so renamed examples simply drop out.
 */
const FAILURE_VARIANTS: Readonly<Record<string, readonly { params: Record<string, unknown>; why: string }[]>> = {
  'flaky-with-cleanup': [{ params: { FailAttempts: 5 }, why: 'runs out of retries and fails; its always_run cleanup still runs' }],
  'release-chain': [{ params: { TestsPass: false }, why: 'fails its tests and routes to notify-failure instead of publish' }],
  'approval-gate': [{ params: { Approve: false }, why: 'is rejected at its approval gate and routes to roll-back' }],
};

/** Who the demo votes as on the MANUAL tasks of its own jobs. */
const DEMO_APPROVER = 'demo';

/** Whether a Docker-API engine answers `/_ping` on the unix socket (within a second). */
function answers(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const ping = request({ socketPath, path: '/_ping', timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    ping.on('timeout', () => ping.destroy());
    ping.on('error', () => resolve(false));
    ping.end();
  });
}

/**
 * For the demo when no engine is configured: the first container engine answering where Docker and
 * Podman usually listen, so a new user with either installed sees the container example run.
 */
export async function findContainerEngine(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = [
    ...(env.DOCKER_HOST?.startsWith('unix://') ? [env.DOCKER_HOST.slice('unix://'.length)] : []),
    '/var/run/docker.sock',
    ...(env.XDG_RUNTIME_DIR ? [`${env.XDG_RUNTIME_DIR}/podman/podman.sock`] : []),
    '/run/podman/podman.sock',
  ];
  for (const socket of candidates) if (await answers(socket)) return socket;
  return undefined;
}

export interface DemoOptions {
  readonly examplesDir: string;
  readonly logger: Logger;
  /** Passed as the `StatusUrl` param to definitions that declare that job variable (the HTTP polling example). */
  readonly statusUrl?: string;
}

export interface DemoJob {
  readonly id: string;
  readonly jobType: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly why?: string;
  state: JobState;
}

export interface DemoRun {
  readonly applied: readonly string[];
  readonly jobs: readonly DemoJob[];
  /** Resolves when every demo job has ended. */
  readonly finished: Promise<readonly DemoJob[]>;
  /** Stops logging transitions (finished then never resolves if jobs are still running). */
  stop(): void;
}

async function definitionFiles(dir: string, logger: Logger): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => DEFINITION_FILE.test(name)).sort();
  } catch (error) {
    logger.warn(`demo: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)}): nothing to demo`);
    return [];
  }
}

async function applyExamples(queen: QueenService, dir: string, logger: Logger): Promise<string[]> {
  const applied: string[] = [];
  for (const name of await definitionFiles(dir, logger)) {
    const file = join(dir, name);
    const shown = relative(process.cwd(), file) || file;
    try {
      const result = await queen.applyDefinition(await readFile(file, 'utf8'), shown);
      applied.push(result.jobType);
      logger.info(`demo: applied ${shown} as ${result.jobType} v${result.version}${result.created ? '' : ' (unchanged)'}`);
    } catch (error) {
      if (!(error instanceof DefinitionValidationError)) throw error;
      // Containers are known methods only with an engine: without one the example is left out, saying how to get it.
      const engine = /unknown method '(DOCKER|KUBERNETES)'/.exec(error.message);
      if (engine) {
        logger.warn(
          `demo: skipped ${shown}: its ${engine[1]} tasks need a container engine and none is reachable (start Docker or \`podman system service\`, or set MYRMEX_CONTAINER_SOCKET to its API socket)`,
        );
        continue;
      }
      logger.error(`demo: ${shown} is not a valid definition:\n${error.message}`);
    }
  }
  return applied;
}

/**
 * Applies every definition in `examplesDir`, submits one request per job type (plus the failure
 * variants above) and logs every job and task transition of those requests until they end.
 */
export async function runDemo(queen: QueenService, options: DemoOptions): Promise<DemoRun> {
  const { logger } = options;
  const applied = await applyExamples(queen, options.examplesDir, logger);
  if (applied.length === 0) logger.warn(`demo: no job definitions in ${options.examplesDir}: the queen serves, but runs nothing`);

  const jobs = new Map<string, DemoJob>();
  const early: TimelineEvent[] = [];
  let resolveFinished: (jobs: readonly DemoJob[]) => void = () => {};
  const finished = new Promise<readonly DemoJob[]>((resolve) => {
    resolveFinished = resolve;
  });
  const settleIfDone = () => {
    if ([...jobs.values()].every((job) => TERMINAL_JOB_STATES.includes(job.state))) resolveFinished([...jobs.values()]);
  };
  const report = (event: TimelineEvent) => {
    const job = jobs.get(event.jobId);
    if (!job) return;
    const subject = event.taskType === undefined ? 'job' : `task ${event.taskType}`;
    const reason = event.reason ? ` (${event.reason})` : '';
    logger.info(`demo: ${job.jobType} ${shortId(job.id)} ${subject} ${event.from ?? '-'} -> ${event.to}${reason}`);
    if (event.taskType === undefined) {
      job.state = event.to as JobState;
      settleIfDone();
    }
    if (event.taskType !== undefined && event.to === 'READY' && event.reason === AWAITING_APPROVAL) decide(job, event.taskType);
  };
  // A MANUAL task of a demo job waits for a vote: the demo casts it (rejecting when the request says
  // Approve=false), so the demo ends by itself and shows the decision in the timeline.
  const decide = (job: DemoJob, taskType: string) => {
    const decision = job.params.Approve === false ? 'REJECTED' : 'APPROVED';
    const verb = decision === 'APPROVED' ? 'approve' : 'reject';
    logger.info(
      `demo: ${job.jobType} ${shortId(job.id)} task ${taskType} waits for approval; the demo votes ${decision} (yours: npx myrmex ${verb} ${job.id} ${taskType} --comment "...")`,
    );
    if (!queen.decideTask) {
      logger.warn(`demo: this queen takes no approval votes: ${job.jobType} ${shortId(job.id)} waits until its SLA passes`);
      return;
    }
    queen
      .decideTask(job.id, taskType, { decision, approver: DEMO_APPROVER, roles: [], comment: `the demo ${verb}s` })
      .catch((error: unknown) => logger.warn(`demo: could not vote on ${job.jobType} ${shortId(job.id)} ${taskType}: ${String(error)}`));
  };
  let submitting = true;
  // Subscribed before submitting: a job can move before submit() returns its id.
  const stop = queen.onTransition((event) => {
    if (submitting) early.push(event);
    else report(event);
  });

  for (const jobType of applied) {
    const definition = (await queen.definitionVersions(jobType))[0]?.definition;
    const statusParams =
      options.statusUrl && definition && 'StatusUrl' in definition.jobVariables ? { StatusUrl: `${options.statusUrl}/${jobType}` } : {};
    const requests = [{ params: statusParams, why: undefined as string | undefined }, ...(FAILURE_VARIANTS[jobType] ?? [])];
    for (const request of requests) {
      const job = await queen.submit({ jobType, params: request.params });
      jobs.set(job.id, { id: job.id, jobType, params: job.params, state: job.state, ...(request.why ? { why: request.why } : {}) });
      logger.info(`demo: submitted ${jobType} ${job.id}${request.why ? `, which ${request.why}` : ''}`);
    }
  }
  submitting = false;
  early.splice(0).forEach(report);
  finished.then((ended) => {
    stop();
    if (ended.length === 0) return;
    const summary = ended.map((job) => `\n  ${job.jobType} ${shortId(job.id)} ${job.state}${job.why ? `: ${job.why}` : ''}`).join('');
    logger.info(
      `demo: every demo job has ended:${summary}\nThe queen keeps serving; try \`npx myrmex jobs\` and \`npx myrmex status <id>\`. Ctrl-C stops it.`,
    );
  });
  settleIfDone();
  return { applied, jobs: [...jobs.values()], finished, stop };
}
