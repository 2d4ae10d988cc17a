import { hostname } from 'node:os';
import { parseTaint } from '@myrmex/scheduling';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { quantities } from '../../domain/quantities.js';

/** What `myrmex ant` needs, before it reads the files the settings name (token file, CA). */
export interface AntSettings {
  readonly servers: readonly string[];
  readonly token?: string;
  readonly tokenFile?: string;
  readonly id: string;
  readonly capacity: number;
  readonly methods?: readonly string[];
  readonly tags: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
  readonly stateDir?: string;
  readonly drainGraceMs: number;
  readonly caFile?: string;
}

/** One source of settings, every field optional: a config file, MYRMEX_ANT_* variables, or flags. */
export type AntSettingsLayer = Partial<Record<keyof AntSettings, unknown>>;

export class AntConfigError extends Error {
  override readonly name = 'AntConfigError';
}

const list = z.array(z.string().min(1));
const FileSchema = z
  .object({
    servers: list.min(1).optional(),
    server: z.string().optional(),
    token: z.string().min(1).optional(),
    token_file: z.string().min(1).optional(),
    id: z.string().min(1).optional(),
    capacity: z.number().int().min(1).max(10_000).optional(),
    methods: list.optional(),
    tags: list.optional(),
    labels: z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    resources: z.record(z.string().min(1), z.union([z.string(), z.number()]).transform(String)).optional(),
    taints: list.optional(),
    state_dir: z.string().min(1).optional(),
    drain_grace_ms: z.number().int().min(0).optional(),
    ca_file: z.string().min(1).optional(),
  })
  .strict();

/** A config file (YAML or JSON); errors name the file and the field. */
export function antSettingsFromFile(text: string, path: string): AntSettingsLayer {
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (error) {
    throw new AntConfigError(`${path}: not YAML or JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const parsed = FileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AntConfigError(`${path}: ${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  const f = parsed.data;
  return {
    ...((f.servers ?? f.server) !== undefined && { servers: f.servers ?? [f.server!] }),
    ...(f.token !== undefined && { token: f.token }),
    ...(f.token_file !== undefined && { tokenFile: f.token_file }),
    ...(f.id !== undefined && { id: f.id }),
    ...(f.capacity !== undefined && { capacity: f.capacity }),
    ...(f.methods !== undefined && { methods: f.methods }),
    ...(f.tags !== undefined && { tags: f.tags }),
    ...(f.labels !== undefined && { labels: f.labels }),
    ...(f.resources !== undefined && { resources: f.resources }),
    ...(f.taints !== undefined && { taints: f.taints }),
    ...(f.state_dir !== undefined && { stateDir: f.state_dir }),
    ...(f.drain_grace_ms !== undefined && { drainGraceMs: f.drain_grace_ms }),
    ...(f.ca_file !== undefined && { caFile: f.ca_file }),
  };
}

/** `a,b,c` as a list (empty items dropped). */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `k=v,k2=v2` as a map; `what` names the flag or variable in the error. */
export function splitPairs(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of splitList(text)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AntConfigError(`${what}: '${pair}' is not key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** MYRMEX_ANT_* variables (MYRMEX_ANT_SERVER may list several URLs; MYRMEX_ANT_CA, or MYRMEX_ANT_CA_FILE, names the CA file). */
export function antSettingsFromEnv(env: NodeJS.ProcessEnv): AntSettingsLayer {
  const v = (name: string) => (env[`MYRMEX_ANT_${name}`] === '' ? undefined : env[`MYRMEX_ANT_${name}`]);
  const integer = (name: string) => {
    const text = v(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new AntConfigError(`MYRMEX_ANT_${name} must be a whole number, got '${text}'`);
    return Number(text);
  };
  const layer: Record<string, unknown> = {
    servers: v('SERVER') === undefined ? undefined : splitList(v('SERVER')!),
    token: v('TOKEN'),
    tokenFile: v('TOKEN_FILE'),
    id: v('ID'),
    capacity: integer('CAPACITY'),
    methods: v('METHODS') === undefined ? undefined : splitList(v('METHODS')!),
    tags: v('TAGS') === undefined ? undefined : splitList(v('TAGS')!),
    labels: v('LABELS') === undefined ? undefined : splitPairs(v('LABELS')!, 'MYRMEX_ANT_LABELS'),
    resources: v('RESOURCES') === undefined ? undefined : splitPairs(v('RESOURCES')!, 'MYRMEX_ANT_RESOURCES'),
    taints: v('TAINTS') === undefined ? undefined : splitList(v('TAINTS')!),
    stateDir: v('STATE_DIR'),
    drainGraceMs: integer('DRAIN_GRACE_MS'),
    caFile: v('CA') ?? v('CA_FILE'),
  };
  return Object.fromEntries(Object.entries(layer).filter(([, value]) => value !== undefined));
}

/** Layers merged, later ones winning (file, then environment, then flags), and checked as a whole. */
export function resolveAntSettings(...layers: readonly AntSettingsLayer[]): AntSettings {
  const merged: AntSettingsLayer = Object.assign({}, ...layers);
  const servers = (merged.servers as string[] | undefined) ?? [];
  if (servers.length === 0)
    throw new AntConfigError('no queen to connect to: give --server, MYRMEX_ANT_SERVER or servers: in the config file');
  for (const server of servers) {
    if (!/^(https?|wss?):\/\/[^/]+/.test(server)) throw new AntConfigError(`server '${server}' must be an http(s) or ws(s) URL`);
  }
  if (merged.token === undefined && merged.tokenFile === undefined) {
    throw new AntConfigError('no token: give --token, --token-file, MYRMEX_ANT_TOKEN or token: in the config file');
  }
  const id = (merged.id as string | undefined) ?? hostname();
  if (!/^[A-Za-z0-9._:@-]{1,200}$/.test(id)) throw new AntConfigError(`ant id '${id}' may only use letters, digits and . _ : @ -`);
  const capacity = (merged.capacity as number | undefined) ?? 4;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) {
    throw new AntConfigError(`capacity must be an integer from 1 to 10000, got ${String(capacity)}`);
  }
  const drainGraceMs = (merged.drainGraceMs as number | undefined) ?? 30_000;
  const resources = (merged.resources as Record<string, string> | undefined) ?? {};
  try {
    quantities(resources);
  } catch (error) {
    throw new AntConfigError(`resources: ${(error as Error).message}`);
  }
  const taints = (merged.taints as string[] | undefined) ?? [];
  try {
    taints.forEach(parseTaint);
  } catch (error) {
    throw new AntConfigError(`taints: ${(error as Error).message}`);
  }
  return {
    servers,
    ...(merged.token !== undefined && { token: merged.token as string }),
    ...(merged.tokenFile !== undefined && { tokenFile: merged.tokenFile as string }),
    id,
    capacity,
    ...(merged.methods !== undefined && { methods: merged.methods as string[] }),
    tags: (merged.tags as string[] | undefined) ?? [],
    labels: (merged.labels as Record<string, string> | undefined) ?? {},
    resources,
    taints,
    ...(merged.stateDir !== undefined && { stateDir: merged.stateDir as string }),
    drainGraceMs,
    ...(merged.caFile !== undefined && { caFile: merged.caFile as string }),
  };
}
