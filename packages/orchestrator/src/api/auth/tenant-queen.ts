import { internalJobType, visibleDefinitionVersion, visibleJobTypeOf } from '../../domain/job-type-names.js';
import { QueenError } from '../../queen/errors.js';
import type { QueenService } from '../../queen/service.js';
import type { SecurityStore } from '../../store/security.js';
import { currentPrincipal } from './principal.js';

/**
 * The queen as one organisation sees it: its own jobs and job types only, and what it creates is
 * filed under it. The caller comes from {@link currentPrincipal}; without one (a handler that lost
 * its context) every call is refused rather than answered for all organisations. The API's
 * preHandler already answers 404 for another organisation's `:id` or `:type`; this guard covers
 * lists, submissions, streams and anything a route reaches without a path parameter.
 *
 * Job types are named per organisation (domain/job-type-names.ts): what comes in is the name the
 * organisation's users type, resolved in its namespace; what goes out carries that name again.
 */
export function tenantQueen(queen: QueenService, security: SecurityStore): QueenService {
  const org = (): string => {
    const principal = currentPrincipal.getStore();
    if (!principal) throw new Error('tenant guard: no authenticated caller in this context');
    return principal.orgId;
  };
  /** The job's owner and, for a user's token, its submitter (whose own quotas count it). */
  const owner = (): { org: string; user?: string } => {
    const user = currentPrincipal.getStore()?.userId;
    return { org: org(), ...(user !== undefined && { user }) };
  };
  const ownJob = async (id: string): Promise<void> => {
    if ((await security.jobOrg(id)) !== org()) throw new QueenError('not_found', `unknown job '${id}'`, 'id');
  };
  /** The caller's name for a job type, as the queen knows it. */
  const internal = (jobType: string): string => internalJobType(org(), jobType);
  const ownsType = async (jobType: string): Promise<boolean> => (await security.definitionOrg(jobType)) === org();
  // Jobs never change organisation, so their owners can be remembered for the streams' filters; the
  // promise is kept, so one job's events wait on one lookup and are delivered in their order.
  const owners = new Map<string, Promise<string | undefined>>();
  const ownerOf = (jobId: string): Promise<string | undefined> => {
    let owner = owners.get(jobId);
    if (!owner) {
      if (owners.size > 100_000) owners.clear();
      owner = security.jobOrg(jobId);
      owners.set(jobId, owner);
      owner.catch(() => owners.delete(jobId));
    }
    return owner;
  };

  return {
    applyDefinition: async (source, fileName) => visibleJobTypeOf(await queen.applyDefinition(source, fileName, org())),
    listDefinitions: async () => {
      const mine = org();
      const orgs = await security.definitionOrgs();
      return (await queen.listDefinitions()).filter((d) => orgs.get(d.jobType) === mine).map(visibleDefinitionVersion);
    },
    definitionVersions: async (jobType) =>
      (await ownsType(internal(jobType))) ? (await queen.definitionVersions(internal(jobType))).map(visibleDefinitionVersion) : [],
    disableDefinition: async (jobType) => {
      if (!(await ownsType(internal(jobType)))) throw new QueenError('not_found', `unknown job type '${jobType}'`, 'jobType');
      return queen.disableDefinition(internal(jobType));
    },
    submit: async (request) => {
      if (!(await ownsType(internal(request.jobType))))
        throw new QueenError('not_found', `unknown job type '${request.jobType}'`, 'jobType');
      return visibleJobTypeOf(await queen.submit({ ...request, jobType: internal(request.jobType), ...owner() }));
    },
    submitMany: async (requests) => {
      for (const [index, request] of requests.entries()) {
        if (!(await ownsType(internal(request.jobType))))
          throw new QueenError(
            'not_found',
            `requests[${index}].jobType: unknown job type '${request.jobType}'`,
            `requests[${index}].jobType`,
          );
      }
      const created = await queen.submitMany(requests.map((request) => ({ ...request, jobType: internal(request.jobType), ...owner() })));
      return created.map(visibleJobTypeOf);
    },
    listJobs: async (query) => {
      const page = await queen.listJobs({
        ...query,
        ...(query.jobType === undefined ? {} : { jobType: internal(query.jobType) }),
        org: org(),
      });
      return { ...page, items: page.items.map(visibleJobTypeOf) };
    },
    getJob: async (id) => {
      if ((await security.jobOrg(id)) !== org()) return undefined;
      const job = await queen.getJob(id);
      return job === undefined ? undefined : visibleJobTypeOf(job);
    },
    cancel: async (id, reason) => {
      await ownJob(id);
      return visibleJobTypeOf(await queen.cancel(id, reason));
    },
    restart: async (id, options) => {
      await ownJob(id);
      return visibleJobTypeOf(await queen.restart(id, options));
    },
    pause: async (id, reason) => {
      await ownJob(id);
      return visibleJobTypeOf(await queen.pause(id, reason));
    },
    resume: async (id) => {
      await ownJob(id);
      return visibleJobTypeOf(await queen.resume(id));
    },
    logs: async (jobId, options) => {
      await ownJob(jobId);
      return queen.logs(jobId, options);
    },
    followLogs: (jobId, options, onLine, onEnd) => {
      const mine = org();
      let stop: (() => void) | undefined;
      let stopped = false;
      void ownerOf(jobId).then(
        (owner) => {
          if (stopped) return;
          if (owner === mine) stop = queen.followLogs(jobId, options, onLine, onEnd);
          else onEnd();
        },
        () => onEnd(),
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
    onTransition: (listener) => {
      const mine = org();
      return queen.onTransition((event) => {
        ownerOf(event.jobId).then(
          (owner) => {
            if (owner === mine) listener(event);
          },
          () => undefined,
        );
      });
    },
    // Shared ants serve everyone; an organisation's own ants are its business (a platform administrator sees all).
    // A shared ant's running attempts are shown only for the caller's own jobs.
    ants: async () => {
      const mine = org();
      const all = await queen.ants();
      if (currentPrincipal.getStore()?.platformAdmin) return all;
      const ownAttempt = async (assignment: string) => (await ownerOf(assignment.split('/')[0] ?? '')) === mine;
      return Promise.all(
        all
          .filter((ant) => ant.org === undefined || ant.org === mine)
          .map(async (ant) => {
            if (ant.assignments === undefined) return ant;
            const own = await Promise.all(ant.assignments.map(ownAttempt));
            return { ...ant, assignments: ant.assignments.filter((_, i) => own[i]) };
          }),
      );
    },
    // Health is the queen's, not an organisation's.
    health: () => queen.health(),
    // Artifacts are the job's: another organisation's job is not found.
    ...(queen.artifacts === undefined || queen.openArtifact === undefined
      ? {}
      : {
          artifacts: async (id: string) => {
            await ownJob(id);
            return queen.artifacts!(id);
          },
          openArtifact: async (id: string, digest: string) => {
            await ownJob(id);
            return queen.openArtifact!(id, digest);
          },
        }),
    // Approvals are the job's too.
    ...(queen.decideTask === undefined || queen.approvals === undefined
      ? {}
      : {
          decideTask: async (id: string, taskType: string, vote: Parameters<NonNullable<QueenService['decideTask']>>[2]) => {
            await ownJob(id);
            return queen.decideTask!(id, taskType, vote);
          },
          approvals: async (id: string) => {
            await ownJob(id);
            return queen.approvals!(id);
          },
        }),
  };
}
