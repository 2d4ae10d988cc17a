/**
 * Variables of the queen's own environment a task must never see: the secrets keyring, the token
 * pepper, ant tokens, and store URLs (which carry database passwords).
 */
const PRIVATE = /^(MYRMEX_(SECRET_KEYS|TOKEN|ANT_TOKEN|DB|DATABASE|PG|POSTGRES|REDIS|AMQP|NATS)[A-Z_]*|PGPASSWORD|PGPASSFILE)$/;

export function isPrivateVariable(name: string): boolean {
  return PRIVATE.test(name);
}

/** The environment a task starts from: the queen's, without its private variables. */
export function taskEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isPrivateVariable(name)));
}

export interface TaskUser {
  readonly uid: number;
  readonly gid: number;
}

/**
 * `MYRMEX_TASK_USER` as `uid:gid` or `uid`: who shell tasks run as when the ant runs as root. Names
 * are resolved by the caller (`id -u name`), so this stays free of I/O.
 */
export function parseTaskUser(spec: string, source = 'MYRMEX_TASK_USER'): TaskUser {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(spec.trim());
  if (!match) throw new RangeError(`${source} must be uid or uid:gid (e.g. 65534:65534), got '${spec}'`);
  const uid = Number(match[1]);
  if (uid === 0) throw new RangeError(`${source}: tasks must not run as root (uid 0)`);
  return { uid, gid: Number(match[2] ?? match[1]) };
}
