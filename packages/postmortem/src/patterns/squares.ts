/** A recurring failure pattern ("post-mortem bingo square"), recognised from front-matter tags or text. */
export interface Square {
  readonly id: string;
  readonly label: string;
  /** Tags (compared case-insensitively) that mark it outright. */
  readonly tags: readonly string[];
  /** Phrases that reveal it in the narrative; a trailing * matches any ending. */
  readonly phrases: readonly string[];
  /** What a repeat of it says about the organisation. */
  readonly meaning: string;
}

export const SQUARES: readonly Square[] = [
  {
    id: 'no-monitoring',
    label: 'No monitoring',
    tags: ['no-monitoring', 'monitoring-gap', 'missing-alert', 'observability'],
    phrases: [
      'no monitoring',
      'not monitored',
      'no alert*',
      'missing alert*',
      'monitoring gap',
      'did not alert',
      'no dashboard*',
      'no saturation',
      'only monitor*',
    ],
    meaning: 'there is no shared way of deciding what each service must monitor',
  },
  {
    id: 'insufficient-tests',
    label: 'Insufficient tests',
    tags: ['insufficient-tests', 'test-gap', 'testing'],
    phrases: [
      'insufficient test*',
      'no test*',
      'missing test*',
      'untested',
      'not tested',
      'test coverage',
      'load test*',
      'tests did not',
      'passed testing',
      'pass testing',
    ],
    meaning: 'the testing approach, not one missing test case, needs a look',
  },
  {
    id: 'staging-differs',
    label: 'Staging differs from production',
    tags: ['staging-differs', 'environment-drift', 'staging'],
    phrases: [
      'worked in staging',
      'staging differs',
      'staging uses',
      'staging data',
      'drifted from production',
      'differs from production',
      'unlike production',
      'production-sized',
      'shape of production',
    ],
    meaning: 'test environments do not represent production and will keep missing production-only failures',
  },
  {
    id: 'manual-process-error',
    label: 'Manual process error',
    tags: ['manual-process-error', 'manual-error', 'toil'],
    phrases: ['manual step', 'manual process', 'manual approval', 'manually', 'by hand', 'typo', 'fat-finger*', 'copy-paste*'],
    meaning: 'reliability depends on people never slipping; automate or guard the step',
  },
  {
    id: 'deployment',
    label: 'Deployment-related',
    tags: ['deployment', 'deploy', 'release'],
    phrases: ['deploy*', 'release', 'rollout', 'rolling out', 'canary'],
    meaning: 'the deployment pipeline (gradual rollout, automatic checks, fast undo) needs investment',
  },
  {
    id: 'rollback-broken',
    label: 'Rollback broken',
    tags: ['rollback-broken', 'rollback-failed'],
    phrases: [
      'rollback failed',
      'rollback was broken',
      'could not roll back',
      'unable to roll back',
      'rollback did not',
      'rollback took',
      'rollback broke',
      'roll back failed',
    ],
    meaning: 'undoing a change is not exercised as often as making one',
  },
  {
    id: 'peak-traffic-deploy',
    label: 'Deployed during peak traffic',
    tags: ['peak-traffic', 'peak-traffic-deploy'],
    phrases: ['peak traffic', 'peak hour*', 'busiest', 'during peak', 'black friday', 'high-traffic window'],
    meaning: 'changes go out when a failure costs the most; the release calendar needs guard rails',
  },
];
