import { describe, expect, it } from 'vitest';
import { buildProfile, ProfileError, parseProfile, schedulePass } from '../src/index.js';
import { ant, job, started } from './support.js';

const yaml = `name: fair-binpack
retry: 10s
seed: 7
budget:
  maxDecisions: 100
overcommit:
  cpu: 1.5
plugins:
  - multilevel:
      order: [interactive, batch]
  - fair-share:
      policy: drf
      weights: { acme: 2 }
  - priority:
      aging: { interval: 1m, maxWait: 10m }
  - fcfs
  - resources: { fit: best-fit, weight: 2 }
  - affinity
  - preemption: { grace: 30s }
`;

describe('profiles', () => {
  it('compose plugins from YAML, in order, with their options and the pass options', () => {
    const profile = parseProfile(yaml);
    expect(profile.name).toBe('fair-binpack');
    expect(profile.plugins.map((p) => p.name)).toEqual([
      'multilevel',
      'fair-share:tenant',
      'priority',
      'fcfs',
      'resources',
      'affinity',
      'preemption',
    ]);
    expect(profile.plugins.find((p) => p.name === 'resources')?.weight).toBe(2);
    expect(profile.options).toEqual({ retryMs: 10_000, seed: 7, budget: { maxDecisions: 100 }, overcommit: { cpu: 1.5 } });
    const pending = [job('b', { queue: 'batch' }), job('i', { queue: 'interactive', submittedAt: 5 })];
    expect(
      started(schedulePass({ now: 0, pending, running: [], ants: [ant('x', { cpu: 1 })] }, profile.plugins, profile.options).decisions),
    ).toEqual(['i']);
  });

  it('accept JSON too', () => {
    expect(parseProfile(JSON.stringify({ plugins: ['fcfs', { edf: { by: 'laxity' } }] }), 'p.json').plugins.map((p) => p.name)).toEqual([
      'fcfs',
      'edf',
    ]);
  });

  it('name the file, line, column and field of a bad option', () => {
    const bad = yaml.replace('policy: drf', 'policy: fairest');
    const error = (() => {
      try {
        parseProfile(bad, 'sched.yaml');
      } catch (e) {
        return e as ProfileError;
      }
    })();
    expect(error).toBeInstanceOf(ProfileError);
    expect(error!.issues).toHaveLength(1);
    expect(error!.issues[0]).toMatchObject({ path: 'plugins[1].fair-share.policy', line: 12, column: 15 });
    expect(error!.message).toMatch(/^sched\.yaml:12:15: plugins\[1\]\.fair-share\.policy: /);
  });

  it('report every problem at once: unknown plugins, bad durations, options on a plugin that takes none', () => {
    const text = 'retry: soon\nplugins:\n  - fifo\n  - fcfs: { strict: true }\n  - delay: { nodeDelay: 5 parsecs }\n';
    expect(() => parseProfile(text, 'p.yaml')).toThrow(
      new ProfileError('p.yaml', [
        { path: 'retry', line: 1, column: 8, message: "'soon' is not a duration (use e.g. 500ms, 30s, 5m, 1h30m)" },
      ]),
    );
    const noRetry = text.replace('retry: soon\n', '');
    const issues = (() => {
      try {
        parseProfile(noRetry, 'p.yaml');
      } catch (e) {
        return (e as ProfileError).issues;
      }
    })();
    expect(issues?.map((i) => [i.path, i.line])).toEqual([
      ['plugins[0]', 2],
      ['plugins[1].fcfs', 3],
      ['plugins[2].delay.nodeDelay', 4],
    ]);
    expect(issues?.[0]?.message).toMatch(/^unknown plugin 'fifo' \(known: fcfs, priority/);
  });

  it('reject YAML syntax errors with their position, and an empty plugin list', () => {
    expect(() => parseProfile('plugins: [fcfs', 'x.yaml')).toThrow(/^x\.yaml:1:\d+: \(profile\): /);
    expect(() => buildProfile({ plugins: [] })).toThrow(/plugins: Too small/);
  });
});
