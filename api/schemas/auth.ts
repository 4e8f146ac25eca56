/**
 * Schemas of the identity routes: login/logout/me, users, virtual clusters. Request bodies are
 * closed (`additionalProperties: false`); responses too, so nothing (a hash) can leak by accident.
 */
import { USER_NAME_RE } from '../../engine/index.ts';
import { errorResponses } from './common.ts';

/** Virtual-cluster names: safe in a KV key and a NATS subject (engine NAME_RE). */
export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';
/** User names: as {@link NAME_PATTERN} with upper-case letters too (engine USER_NAME_RE). */
export const USER_NAME_PATTERN = USER_NAME_RE.source;

const name = { type: 'string', minLength: 1, maxLength: 32, pattern: NAME_PATTERN } as const;
const userName = { type: 'string', minLength: 1, maxLength: 32, pattern: USER_NAME_PATTERN } as const;
const role = { type: 'string', enum: ['admin', 'operator', 'viewer'], description: 'viewer < operator < admin.' } as const;
const newPassword = { type: 'string', minLength: 12, maxLength: 256, description: '12 to 256 characters.' } as const;
const anyPassword = { type: 'string', minLength: 1, maxLength: 256 } as const;
const vcNames = { type: 'array', maxItems: 100, uniqueItems: true, items: name } as const;
const percent = { type: 'number', minimum: 0, maximum: 100 } as const;
/** Plain text: no control, zero-width or bidi characters. */
const description = {
  type: 'string',
  maxLength: 256,
  pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufeff]*$',
} as const;

/** `:name` path parameter of a virtual cluster (checked against {@link NAME_PATTERN} by the handler). */
const nameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', description: `A name matching ${NAME_PATTERN}.` } },
} as const;

/** `:name` path parameter of a user (checked against {@link USER_NAME_PATTERN} by the handler). */
const userNameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', description: `A user name matching ${USER_NAME_PATTERN}.` } },
} as const;

const userViewProperties = {
  name: { type: 'string' },
  role: { type: 'string' },
  virtualClusters: { type: 'array', items: { type: 'string' }, description: 'Granted virtual clusters (besides `default`).' },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
} as const;

/** UserView: never the password hash. */
export const userViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(userViewProperties),
  properties: userViewProperties,
} as const;

const meSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role', 'virtualClusters', 'createdAt', 'updatedAt'],
  properties: {
    ...userViewProperties,
    virtualClusters: { type: 'array', items: { type: 'string' }, description: 'Virtual clusters the caller may submit to (grants and `default`).' },
    createdAt: { type: ['string', 'null'] },
    updatedAt: { type: ['string', 'null'] },
  },
} as const;

const vcStatusProperties = {
  name: { type: 'string' },
  capacity: { type: 'number', description: 'Guaranteed share, percent.' },
  maxCapacity: { type: 'number', description: 'Share it may borrow up to, percent.' },
  usedCapacity: { type: 'number', description: 'Running slots in use, percent of the total.' },
  numJobs: { type: 'integer' },
  numActiveJobs: { type: 'integer' },
  numPendingJobs: { type: 'integer' },
  slots: {
    type: 'object',
    additionalProperties: false,
    required: ['guaranteed', 'max', 'used', 'total'],
    properties: { guaranteed: { type: 'integer' }, max: { type: 'integer' }, used: { type: 'integer' }, total: { type: 'integer' } },
  },
} as const;

/** VirtualClusterStatus (OpenPAI's virtual-cluster shape). */
export const vcStatusSchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(vcStatusProperties),
  properties: vcStatusProperties,
} as const;

const noContent = { 204: { type: 'null', description: 'Done.' }, ...errorResponses } as const;

export const authRouteSchemas = {
  login: {
    summary: 'Log in: exchange a user name and password for a bearer token',
    tags: ['auth'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password'],
      properties: {
        username: userName,
        password: anyPassword,
        ttlMs: { type: 'integer', minimum: 1000, maximum: 31_536_000_000, description: 'Token lifetime; capped by the server setting tokenMaxTtlMs.' },
      },
    },
    response: {
      200: {
        type: 'object',
        additionalProperties: false,
        required: ['token', 'tokenType', 'expiresAt', 'user'],
        properties: {
          token: { type: 'string', description: 'Send as `Authorization: Bearer <token>`. Shown once; the server keeps only its hash.' },
          tokenType: { type: 'string', enum: ['Bearer'] },
          expiresAt: { type: 'string' },
          user: userViewSchema,
        },
      },
      ...errorResponses,
    },
  },
  logout: { summary: 'Revoke the token this request presents', tags: ['auth'], response: noContent },
  me: { summary: 'The authenticated user', tags: ['auth'], response: { 200: meSchema, ...errorResponses } },
} as const;

export const userRouteSchemas = {
  list: {
    summary: 'List users (admin)',
    tags: ['users'],
    response: {
      200: { type: 'object', additionalProperties: false, required: ['users'], properties: { users: { type: 'array', items: userViewSchema } } },
      ...errorResponses,
    },
  },
  create: {
    summary: 'Create a user (admin)',
    tags: ['users'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'password', 'role'],
      properties: { name: userName, password: newPassword, role, virtualClusters: vcNames },
    },
    response: { 201: userViewSchema, ...errorResponses },
  },
  get: { summary: 'Read a user (admin)', tags: ['users'], params: userNameParams, response: { 200: userViewSchema, ...errorResponses } },
  update: {
    summary: 'Change the role or the virtual-cluster grants of a user (admin)',
    tags: ['users'],
    params: userNameParams,
    body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { role, virtualClusters: vcNames } },
    response: { 200: userViewSchema, ...errorResponses },
  },
  remove: { summary: 'Delete a user and revoke its tokens (admin)', tags: ['users'], params: userNameParams, response: noContent },
  password: {
    summary: "Set a user's password (admin), or your own with currentPassword; revokes the user's tokens",
    tags: ['users'],
    params: userNameParams,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['password'],
      properties: { password: newPassword, currentPassword: anyPassword },
    },
    response: noContent,
  },
  grants: {
    summary: 'Replace the virtual clusters a user may submit to (admin)',
    tags: ['users'],
    params: userNameParams,
    body: { type: 'object', additionalProperties: false, required: ['virtualClusters'], properties: { virtualClusters: vcNames } },
    response: { 200: userViewSchema, ...errorResponses },
  },
} as const;

export const virtualClusterRouteSchemas = {
  list: {
    summary: 'Virtual clusters you may use, with capacity and usage',
    tags: ['virtual-clusters'],
    response: {
      200: {
        type: 'object',
        additionalProperties: false,
        required: ['virtualClusters'],
        properties: { virtualClusters: { type: 'array', items: vcStatusSchema } },
      },
      ...errorResponses,
    },
  },
  get: { summary: 'One virtual cluster', tags: ['virtual-clusters'], params: nameParams, response: { 200: vcStatusSchema, ...errorResponses } },
  create: {
    summary: 'Define a virtual cluster (admin); the capacities of all add up to at most 100',
    tags: ['virtual-clusters'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'capacity', 'maxCapacity'],
      properties: { name, capacity: percent, maxCapacity: percent, description },
    },
    response: { 201: vcStatusSchema, ...errorResponses },
  },
  update: {
    summary: 'Change a virtual cluster (admin)',
    tags: ['virtual-clusters'],
    params: nameParams,
    body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { capacity: percent, maxCapacity: percent, description } },
    response: { 200: vcStatusSchema, ...errorResponses },
  },
  remove: {
    summary: 'Delete a virtual cluster (admin); refused for `default` and while it has unfinished jobs',
    tags: ['virtual-clusters'],
    params: nameParams,
    response: noContent,
  },
} as const;
