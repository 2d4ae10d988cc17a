import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { UsageError } from '../../context.js';
import { printable } from '../../terminal.js';
import { parseInteger, runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { securityCall } from './http.js';

const SCOPES = ['read', 'submit', 'cancel', 'approve', 'admin', 'ant'];

interface TokenWire {
  id: string;
  name: string;
  org: string;
  scopes: string[];
  shared?: boolean;
  created_at: string;
  expires_at?: string;
  last_used_at?: string;
  revoked_at?: string;
  token?: string;
}

function collectScope(value: string, previous: string[] = []): string[] {
  for (const scope of value.split(',')) {
    if (!SCOPES.includes(scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}, got '${scope}'`);
    previous.push(scope);
  }
  return previous;
}

/** `myrmex token create|list|revoke` and `myrmex quota`: the caller's organisation, as MYRMEX_TOKEN says. */
export function registerToken(program: Command, context: CliContext): void {
  const token = program.command('token').description('API tokens of your organisation (authenticate with MYRMEX_TOKEN)');
  withServerOptions(
    token
      .command('create')
      .description('create a token; it is printed once and only its hash is kept')
      .requiredOption('--name <name>', 'what the token is for')
      .option('--scope <scope>', `one of ${SCOPES.join(', ')} (repeatable or comma-separated)`, collectScope)
      .option('--expires-in <seconds>', 'expire after this many seconds', parseInteger('--expires-in', 60, 10 * 365 * 24 * 3600))
      .option('--shared', "an ant token serving every organisation's jobs (platform administrators; needs --scope ant)"),
  ).action(async (options: ServerOptions & { name: string; scope?: string[]; expiresIn?: number; shared?: boolean }) =>
    runAction(context, options.json, async () => {
      const created = await securityCall<TokenWire>(options, context, 'POST', '/tokens', {
        name: options.name,
        scopes: options.scope ?? ['read'],
        ...(options.expiresIn ? { expires_in_s: options.expiresIn } : {}),
        ...(options.shared ? { shared: true } : {}),
      });
      if (options.json) context.io.out(JSON.stringify(created));
      else {
        const serves = created.scopes.includes('ant') ? (created.shared ? '; a shared ant' : `; an ant of ${created.org} only`) : '';
        context.io.out(`${created.token}\n(token ${created.id}, scopes ${created.scopes.join(',')}${serves}; shown once)`);
      }
    }),
  );
  withServerOptions(token.command('list').description("your organisation's tokens (never their secrets)")).action(
    async (options: ServerOptions) =>
      runAction(context, options.json, async () => {
        const { items } = await securityCall<{ items: TokenWire[] }>(options, context, 'GET', '/tokens');
        if (options.json) return context.io.out(JSON.stringify(items));
        for (const t of items) {
          const state = t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at ? `expires ${t.expires_at}` : 'active';
          context.io.out(`${t.id}  ${printable(t.name)}  ${t.scopes.join(',')}  ${state}  last used ${t.last_used_at ?? 'never'}`);
        }
      }),
  );
  withServerOptions(token.command('revoke <id>').description('revoke a token: every queen refuses it within a second')).action(
    async (id: string, options: ServerOptions) =>
      runAction(context, options.json, async () => {
        await securityCall(options, context, 'DELETE', `/tokens/${encodeURIComponent(id)}`);
        context.io.out(options.json ? JSON.stringify({ id, revoked: true }) : `revoked ${id}`);
      }),
  );
  token
    .command('recover')
    .description("issue a new platform admin token straight in the store (an operator's way back in; needs the database, not a token)")
    .option('--db <store>', 'a SQLite file or postgres:// URL (default $MYRMEX_DB, then ./.myrmex/myrmex.db)')
    .action(async (options: { db?: string }) => {
      const { openStore, openAuth, createToken, DEFAULT_DB_PATH } = await import('@myrmex/orchestrator');
      const store = await openStore(options.db ?? context.env.MYRMEX_DB ?? DEFAULT_DB_PATH);
      try {
        const security = store.security();
        const { pepper } = await openAuth(security, { env: context.env, bootstrap: false });
        if (!(await security.user('admin'))) await security.createUser({ id: 'admin', name: 'admin', platformAdmin: true }, new Date());
        await security.setRole('default', 'admin', 'admin');
        const { plaintext, row } = await createToken(security, pepper, {
          orgId: 'default',
          userId: 'admin',
          name: 'recovery admin',
          scopes: ['admin'],
        });
        await security.appendAudit({
          at: new Date().toISOString(),
          org: 'default',
          actor: 'operator (myrmex token recover)',
          action: 'token.recover',
          target: `token/${row.id}`,
          source: 'cli',
          outcome: 'ok',
        });
        context.io.out(`${plaintext}\n(platform admin token ${row.id}; shown once)`);
      } finally {
        await store.close();
      }
    });
}
