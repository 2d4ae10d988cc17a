import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { UsageError } from '../../context.js';
import { printable } from '../../terminal.js';
import { runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { securityCall } from '../token/http.js';

const ROLES = ['viewer', 'operator', 'admin'];

function role(value: string): string {
  if (!ROLES.includes(value)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got '${value}'`);
  return value;
}

interface Member {
  id: string;
  name: string;
  role: string;
}

/** `myrmex user add|list|role` and `myrmex team create|list`: your organisation's members (its admins). */
export function registerUser(program: Command, context: CliContext): void {
  const user = program.command('user').description('members of your organisation and their roles (authenticate with MYRMEX_TOKEN)');
  withServerOptions(
    user
      .command('add <id>')
      .description('add a user with a role')
      .requiredOption('--role <role>', ROLES.join(' | '), role)
      .option('--name <name>', 'display name (default: the id)'),
  ).action(async (id: string, options: ServerOptions & { role: string; name?: string }) =>
    runAction(context, options.json, async () => {
      const added = await securityCall<Member>(options, context, 'POST', '/users', {
        id,
        role: options.role,
        ...(options.name ? { name: options.name } : {}),
      });
      context.io.out(options.json ? JSON.stringify(added) : `added ${added.id} as ${added.role}`);
    }),
  );
  withServerOptions(user.command('list').description('members and roles')).action(async (options: ServerOptions) =>
    runAction(context, options.json, async () => {
      const { items } = await securityCall<{ items: Member[] }>(options, context, 'GET', '/users');
      if (options.json) return context.io.out(JSON.stringify(items));
      for (const member of items) context.io.out(`${member.id}  ${printable(member.name)}  ${member.role}`);
    }),
  );
  withServerOptions(user.command('role <id> <role>').description("change a member's role; their tokens follow within a second")).action(
    async (id: string, newRole: string, options: ServerOptions) =>
      runAction(context, options.json, async () => {
        const changed = await securityCall<Member>(options, context, 'PUT', `/users/${encodeURIComponent(id)}/role`, {
          role: role(newRole),
        });
        context.io.out(options.json ? JSON.stringify(changed) : `${changed.id} is now ${changed.role}`);
      }),
  );

  const team = program.command('team').description('teams of your organisation');
  withServerOptions(
    team
      .command('create <name>')
      .description('create a team')
      .option('--member <id>', 'a member (repeatable)', (value: string, previous: string[] = []) => [...previous, value]),
  ).action(async (name: string, options: ServerOptions & { member?: string[] }) =>
    runAction(context, options.json, async () => {
      const created = await securityCall<{ id: string; name: string; members: string[] }>(options, context, 'POST', '/teams', {
        name,
        ...(options.member ? { members: options.member } : {}),
      });
      context.io.out(
        options.json ? JSON.stringify(created) : `created team ${printable(created.name)} (${created.members.length} members)`,
      );
    }),
  );
  withServerOptions(team.command('list').description('teams and their members')).action(async (options: ServerOptions) =>
    runAction(context, options.json, async () => {
      const { items } = await securityCall<{ items: { name: string; members: string[] }[] }>(options, context, 'GET', '/teams');
      if (options.json) return context.io.out(JSON.stringify(items));
      for (const t of items) context.io.out(`${printable(t.name)}: ${t.members.join(', ') || '(nobody)'}`);
    }),
  );
}
