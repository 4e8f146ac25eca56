/**
 * What the OpenPAI facade's tests (test/integration/compat/openpai*.test.ts) build alike: a
 * protocol-v2 job and the cluster the SDK's clients are made for.
 */
import type { Wire } from './wire.ts';

/** The cluster an SDK client is made for (the fields of the SDK's IPAICluster these tests set). */
export interface Cluster {
  rest_server_uri: string;
  username?: string;
  password?: string;
  token?: string;
  https?: boolean;
}

/** A role of {@link protocol}: one instance unless told, its commands, and its completion policy if any. */
export interface ProtocolRole {
  instances?: number;
  commands: string[];
  completion?: Record<string, unknown>;
}

/**
 * A protocol-v2 job as the SDK and a user build one: every role needs a docker image prerequisite
 * and resources. `extra` adds top-level fields (parameters, secrets, defaults).
 */
export function protocol(name: string, roles: Record<string, ProtocolRole>, extra: Record<string, unknown> = {}): Wire {
  const taskRoles: Wire = {};
  for (const [role, r] of Object.entries(roles)) {
    taskRoles[role] = {
      instances: r.instances ?? 1,
      dockerImage: 'img',
      resourcePerInstance: { cpu: 1, memoryMB: 256, gpu: 0 },
      commands: r.commands,
      ...(r.completion !== undefined ? { completion: r.completion } : {}),
    };
  }
  return { protocolVersion: 2, name, type: 'job', prerequisites: [{ name: 'img', type: 'dockerimage', uri: 'ubuntu:22.04' }], taskRoles, ...extra };
}
