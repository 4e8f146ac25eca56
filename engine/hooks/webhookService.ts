/**
 * Webhooks as callers see them: global webhooks (admins only), the per-job callback signing key
 * (admins only), and a job's delivery log and redelivery (the job's owner, or an admin). The API and
 * the facades reach webhooks only through this service (`engine.webhooks`), never the store.
 */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { ControlStore } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';
import type { By, Caller, DeliveryEntry, JobService } from '../serviceTypes.ts';
import { deliveryLogFor } from './deliveryView.ts';
import { callbackSecret, createWebhook, deleteWebhook, listWebhooks, type CreateWebhookInput, type WebhookDef, type WebhookSummary } from './webhookStore.ts';

/** See the module comment. Every call names its Caller; a non-admin managing global webhooks gets FORBIDDEN. */
export interface WebhookService {
  /** Creates a global webhook; the answer is the only place its secret is ever shown. */
  create(input: CreateWebhookInput, caller: Caller): Promise<WebhookDef>;
  /** Every global webhook, without secrets, in id order. */
  list(caller: Caller): WebhookSummary[];
  /** WEBHOOK_NOT_FOUND when there is none with that id. */
  delete(id: string, caller: Caller): Promise<void>;
  /** The HMAC key of per-job callbacks (configured, or generated once and kept in the control store). */
  callbackSecret(caller: Caller): Promise<string>;
  /** The job's delivery log as `caller` may see it: a global webhook's URL only for admins (deliveryView.ts). */
  deliveries(jobId: string, caller: Caller): Promise<DeliveryEntry[]>;
  /** Sends the job's terminal notification again (to one target, or to all); the job must be terminal. */
  redeliver(jobId: string, by: By & { target?: string }): Promise<void>;
}

/** Options of {@link createWebhookService}. */
export interface WebhookServiceOptions {
  /** Global webhooks (`hook.<id>`) and the generated callback secret live here. */
  store: ControlStore;
  /** Job visibility and the delivery log's records come from the job service. */
  jobs: Pick<JobService, 'deliveries' | 'redeliver'>;
  config: Pick<Config, 'callbackSecret' | 'webhookAllowPrivate'>;
  /** Stamps `createdAt`. */
  clock: Clock;
}

function requireAdmin(caller: Caller): void {
  if (caller.role !== 'admin') throw new AppError('FORBIDDEN', `Global webhooks need the admin role; you are ${caller.role}.`);
}

export function createWebhookService(opts: WebhookServiceOptions): WebhookService {
  const { store, jobs, config, clock } = opts;
  return {
    async create(input, caller) {
      requireAdmin(caller);
      return createWebhook(store, input, caller.user, clock, config.webhookAllowPrivate);
    },
    list(caller) {
      requireAdmin(caller);
      return listWebhooks(store);
    },
    async delete(id, caller) {
      requireAdmin(caller);
      await deleteWebhook(store, id);
    },
    async callbackSecret(caller) {
      requireAdmin(caller);
      return callbackSecret(store, config);
    },
    async deliveries(jobId, caller) {
      return deliveryLogFor(caller, await jobs.deliveries(jobId, caller));
    },
    redeliver: (jobId, by) => jobs.redeliver(jobId, by),
  };
}
