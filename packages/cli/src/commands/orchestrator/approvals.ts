import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import type { ApprovalWire } from './client.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';

interface DecideOptions extends ServerOptions {
  readonly comment?: string;
  readonly as?: string;
}

/** One line per MANUAL task: where it stands, what its policy asks, who voted. */
export function formatApproval(a: ApprovalWire): string {
  const state = a.waiting ? 'WAITING' : (a.decision ?? a.state);
  const asks = [
    `${a.policy.min_approvals} approval${a.policy.min_approvals === 1 ? '' : 's'}`,
    ...(a.policy.unanimous ? ['unanimous'] : []),
    ...(a.policy.required_approvers.length > 0 ? [`approvers ${a.policy.required_approvers.join(',')}`] : []),
    ...(a.policy.required_roles.length > 0 ? [`roles ${a.policy.required_roles.join(',')}`] : []),
    ...(a.due_at ? [`due ${a.due_at} then ${a.policy.timeout_action}`] : []),
  ];
  const votes = a.votes.map((v) => `${v.approver} ${v.decision}${v.comment ? ` "${v.comment}"` : ''}`);
  return `${a.task_type}  ${state}  (${asks.join('; ')})${votes.length > 0 ? `  votes: ${votes.join(', ')}` : ''}${
    a.waiting || !a.reason ? '' : `\n  ${a.reason}`
  }`;
}

/** `myrmex approve|reject <job> <task> [--comment]` and `myrmex approvals <job>`: MANUAL tasks from the terminal. */
export function registerApprovalCommands(program: Command, context: CliContext): void {
  const { io } = context;
  for (const [name, verb] of [
    ['approve', 'approve'],
    ['reject', 'reject'],
  ] as const) {
    withServerOptions(program.command(`${name} <id> <task>`))
      .description(`${verb} a MANUAL task waiting for a decision: your vote, which decides it once its approval policy is met`)
      .option('-m, --comment <text>', 'why; kept with the vote and shown in the timeline with the decision')
      .option('--as <name>', 'who votes, for a queen without authentication (with it, the token says who you are)')
      .action(async (id: string, task: string, options: DecideOptions) => {
        const client = clientFor(options, context);
        await runAction(context, options.json, async () => {
          const approval = await client.decide(id, task, name, {
            ...(options.comment === undefined ? {} : { comment: options.comment }),
            ...(options.as === undefined ? {} : { approver: options.as }),
          });
          io.out(options.json ? JSON.stringify(approval) : formatApproval(approval));
        });
      });
  }

  withServerOptions(program.command('approvals <id>'))
    .description("list a job's MANUAL tasks: waiting or decided, the approval policy, and the votes")
    .action(async (id: string, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const approvals = await client.approvals(id);
        if (options.json) io.out(JSON.stringify(approvals));
        else if (approvals.length === 0) io.out(`job ${id} has no MANUAL tasks`);
        else for (const approval of approvals) io.out(formatApproval(approval));
      });
    });
}
