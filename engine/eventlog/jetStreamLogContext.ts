import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Envelope } from '../../actors/events.ts';
import { AppError } from '../errors.ts';
import { createPubAckPublisher, type PubAckPublisher } from '../nats/pubAcks.ts';
import type { LogRecord } from './eventLog.ts';

/** What the parts of the JetStream event log share: the stream, its clients, the connection state. */
export interface JetStreamLogContext {
  nc: NatsConnection;
  stream: string;
  /** Timeout of each JetStream request, in ms. */
  timeout: number;
  js: JetStreamClient;
  /** The stream manager, created once, lazily. */
  jsm(): Promise<JetStreamManager>;
  /** Acknowledged publishes (appends) without the client's per-request machinery. */
  pubAcks: PubAckPublisher;
  /** Throws UNAVAILABLE at once while the connection is down. */
  checkConnected(what: string): void;
  /** Followers to restart from their cursor after a reconnect (see follow()). */
  onReconnect: Set<() => void>;
}

/** Creates the clients and starts watching the connection's status (for the log's lifetime). */
export function createJetStreamLogContext(nc: NatsConnection, stream: string, timeout: number): JetStreamLogContext {
  const js = jetstream(nc, { timeout });
  let jsmP: Promise<JetStreamManager> | undefined;
  // checkAPI false: no account-info round trip; created once, lazily
  const jsm = () => (jsmP ??= js.jetstreamManager(false));
  // While disconnected the client drops what it would send (see docs/nats-notes.md): fail fast instead of
  // making every caller wait for the request timeout, so the API answers 503 at once.
  let disconnected = false;
  /** Followers to restart from their cursor after a reconnect (see follow()). */
  const onReconnect = new Set<() => void>();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') disconnected = true;
      else if (s.type === 'reconnect') {
        disconnected = false;
        for (const restart of onReconnect) restart();
      }
    }
  })().catch(() => undefined);
  const checkConnected = (what: string) => {
    if (disconnected) throw new AppError('UNAVAILABLE', `${what}: not connected to NATS`);
  };
  return { nc, stream, timeout, js, jsm, pubAcks: createPubAckPublisher(nc, timeout), checkConnected, onReconnect };
}

const decoder = new TextDecoder();

/** The ISO-8601 text of the last whole second seen, up to the seconds (`2026-12-05T10:57:01`). */
let isoSecond = NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()`, with the text up to the seconds reused while records come from the
 * same second (a replay reads them in time order): a Date and its formatting per record were a tenth
 * of the follower's decode.
 */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString();
    isoPrefix = iso.slice(0, iso.length - 5); // without `.000Z`
    isoSecond = second;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Converts one stored message into a LogRecord (one JSON.parse); a body that is not a JSON array is INTERNAL. */
export function toRecord(m: JsMsg): LogRecord {
  let events: unknown;
  try {
    events = JSON.parse(decoder.decode(m.data));
  } catch (err) {
    throw new AppError('INTERNAL', `record ${m.seq} on ${m.subject} is not JSON`, { cause: err });
  }
  if (!Array.isArray(events)) throw new AppError('INTERNAL', `record ${m.seq} on ${m.subject} is not an array`);
  const info = m.info;
  // server receive time
  return { seq: info.streamSequence, subject: m.subject, time: isoTime(Math.floor(info.timestampNanos / 1_000_000)), events: events as Envelope[] };
}
