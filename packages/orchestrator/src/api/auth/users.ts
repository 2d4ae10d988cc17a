import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ROLES, type Role, type SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';

const UserId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' });
const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const MemberSchema = Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() });
const TeamSchema = Type.Object({ id: Type.String(), name: Type.String(), members: Type.Array(Type.String()) });

function orgOf(request: FastifyRequest): string {
  if (!request.principal) throw new ProblemError('unauthenticated', 'this route needs an API token');
  return request.principal.orgId;
}

/** Members, roles and teams of the caller's organisation (its admins). */
export async function userRoutes(app: FastifyInstance, security: SecurityStore): Promise<void> {
  const requireMember = async (org: string, userId: string): Promise<void> => {
    if (!(await security.role(org, userId))) throw new ProblemError('not-found', `no member of this organisation is '${userId}'`);
  };

  app.post(
    '/users',
    {
      schema: {
        summary: 'Add a user to the organisation with a role (viewer, operator or admin)',
        tags: ['security'],
        body: Type.Object({ id: UserId, name: Type.Optional(Name), role: RoleSchema }, { additionalProperties: false }),
        response: { 201: MemberSchema, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const org = orgOf(request);
      const body = request.body as { id: string; name?: string; role: Role };
      if (await security.role(org, body.id)) throw new ProblemError('conflict', `'${body.id}' is already a member`);
      const existing = await security.user(body.id);
      // Only a platform administrator may add an existing user (of another organisation) here: an
      // organisation admin could otherwise adopt a platform administrator and mint tokens for them.
      if (existing && !request.principal?.platformAdmin)
        throw new ProblemError('conflict', `the user id '${body.id}' is taken: choose another`);
      const user = existing ?? (await security.createUser({ id: body.id, name: body.name ?? body.id }, new Date()));
      await security.setRole(org, user.id, body.role);
      reply.code(201);
      return { id: user.id, name: user.name, role: body.role };
    },
  );

  app.get(
    '/users',
    {
      schema: {
        summary: "The organisation's members and their roles",
        tags: ['security'],
        response: { 200: Type.Object({ items: Type.Array(MemberSchema) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => ({
      items: (await security.members(orgOf(request))).map(({ user, role }) => ({ id: user.id, name: user.name, role })),
    }),
  );

  app.put(
    '/users/:user/role',
    {
      schema: {
        summary: "Change a member's role; their tokens follow within a second",
        tags: ['security'],
        params: Type.Object({ user: UserId }, { additionalProperties: false }),
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: MemberSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const org = orgOf(request);
      const { user } = request.params as { user: string };
      const { role } = request.body as { role: Role };
      await requireMember(org, user);
      await security.setRole(org, user, role);
      return { id: user, name: (await security.user(user))?.name ?? user, role };
    },
  );

  app.post(
    '/teams',
    {
      schema: {
        summary: 'Create a team of members',
        tags: ['security'],
        body: Type.Object(
          { name: Name, members: Type.Optional(Type.Array(UserId, { maxItems: 1000, uniqueItems: true })) },
          { additionalProperties: false },
        ),
        response: { 201: TeamSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const org = orgOf(request);
      const body = request.body as { name: string; members?: string[] };
      for (const member of body.members ?? []) await requireMember(org, member);
      if ((await security.teams(org)).some((team) => team.name === body.name)) {
        throw new ProblemError('conflict', `a team is already named '${body.name}'`);
      }
      const team = await security.createTeam({ id: randomUUID(), orgId: org, name: body.name });
      for (const member of body.members ?? []) await security.addTeamMember(team.id, member);
      reply.code(201);
      return { id: team.id, name: team.name, members: body.members ?? [] };
    },
  );

  app.get(
    '/teams',
    {
      schema: {
        summary: "The organisation's teams",
        tags: ['security'],
        response: { 200: Type.Object({ items: Type.Array(TeamSchema) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => ({
      items: (await security.teams(orgOf(request))).map((team) => ({ id: team.id, name: team.name, members: [...team.members] })),
    }),
  );
}
