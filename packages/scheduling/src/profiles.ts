/** Profiles shipped with the package, by name: each is the YAML a user would write. */
export const BUILTIN_PROFILES: Readonly<Record<string, string>> = {
  fcfs: 'name: fcfs\nplugins:\n  - fcfs\n  - resources: { fit: first-fit }\n',
  priority: 'name: priority\nplugins:\n  - priority: { aging: { interval: 1m, maxWait: 30m } }\n  - resources: { fit: first-fit }\n',
  sjf: 'name: sjf\nplugins:\n  - sjf\n  - resources: { fit: best-fit }\n',
  edf: 'name: edf\nplugins:\n  - edf\n  - sjf\n  - resources: { fit: best-fit }\n',
  'fair-drf': 'name: fair-drf\nplugins:\n  - fair-share: { policy: drf }\n  - fcfs\n  - resources: { fit: best-fit }\n  - gang\n',
  speculative: 'name: speculative\nplugins:\n  - fcfs\n  - resources: { fit: best-fit }\n  - speculative: { percentile: 90 }\n',
};
