/**
 * What OpenPAI keeps per user that the engine does not (docs/compat/openpai.md "Users"): `email`,
 * `extension` and `grouplist`, in the document store (namespace `openpaiuser`, id a UUIDv5 of the
 * user name, so every API process finds it from the name alone), written with CAS. A profile
 * belongs to one life of its user: it records the user's `createdAt`, so a user deleted (also
 * through the native API) and created again under the name starts with an empty profile. The
 * document store has no delete: deleting a user resets its profile to a tombstone.
 */
import { createHash } from 'node:crypto';
import { AppError, isAppError, type DocumentStore } from '../../../engine/index.ts';
import { badParameters } from './errors.ts';

export const PROFILE_NAMESPACE = 'openpaiuser';
/** Largest profile kept (its JSON): `extension` is the client's free-form object. */
export const MAX_PROFILE_BYTES = 16 * 1024;
/** Group names as OpenPAI wrote them (`[\w.-]+`), bounded. */
const GROUP_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_GROUPS = 256;
const MAX_EMAIL_CHARS = 254;
/** Tries of a profile write when another writer keeps winning the CAS race. */
const MAX_CAS_ATTEMPTS = 5;
/** The UUIDv5 namespace of profile ids (fixed: ids must stay stable across versions). */
const ID_NAMESPACE = '3d6b1f0e-6f4b-5c1a-9a52-6f70656e7061';

export interface OpenPaiProfile {
  email: string;
  extension: Record<string, unknown>;
  grouplist: string[];
}

/** The stored document: a profile of one life of the user (`userCreatedAt`); '' for a deleted user's. */
interface ProfileDoc extends OpenPaiProfile {
  name: string;
  userCreatedAt: string;
}

/** The user a profile is about: its name and when it was created (UserView has both). */
export interface ProfileOwner {
  name: string;
  createdAt: string;
}

export const emptyProfile = (): OpenPaiProfile => ({ email: '', extension: {}, grouplist: [] });

/** RFC 4122 version 5 (SHA-1, name-based) UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const profileId = (userName: string): string => uuidV5(userName, ID_NAMESPACE);

/** `email`: a string, empty or shaped like an address. */
export function checkEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_EMAIL_CHARS || (value !== '' && !/^[^\s@]+@[^\s@]+$/.test(value))) {
    throw badParameters('email must be an email address or an empty string.');
  }
  return value;
}

/** `extension`: a JSON object (not an array, not null). */
export function checkExtension(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badParameters('extension must be an object.');
  return value as Record<string, unknown>;
}

/** One group name of a `grouplist`. */
export function checkGroupName(value: unknown, field = 'groupname'): string {
  if (typeof value !== 'string' || !GROUP_NAME_RE.test(value)) throw badParameters(`${field} must be 1-64 letters, digits, '_', '.' or '-'.`);
  return value;
}

export function checkGrouplist(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_GROUPS) throw badParameters(`grouplist must be an array of at most ${MAX_GROUPS} group names.`);
  return [...new Set(value.map((g) => checkGroupName(g, 'grouplist[]')))];
}

/** 400 when the profile would be larger than the store keeps for it. */
export function checkProfileSize(profile: OpenPaiProfile): void {
  const bytes = Buffer.byteLength(JSON.stringify(profile));
  if (bytes > MAX_PROFILE_BYTES) throw badParameters(`The profile (email, extension, grouplist) is ${bytes} bytes; at most ${MAX_PROFILE_BYTES} are kept.`);
}

export interface Profiles {
  /** The user's profile; empty when none was written in this life of the user. */
  get(user: ProfileOwner): OpenPaiProfile;
  /** Read-modify-write with CAS (retried on a concurrent change); returns what was stored. */
  update(user: ProfileOwner, change: (current: OpenPaiProfile) => OpenPaiProfile): Promise<OpenPaiProfile>;
  /** Resets the profile of a deleted user (nothing when it has none). */
  remove(name: string): Promise<void>;
}

export function createProfiles(documents: DocumentStore): Profiles {
  const read = (name: string) => documents.get<ProfileDoc>(PROFILE_NAMESPACE, profileId(name));
  const ofThisLife = (doc: ProfileDoc | undefined, user: ProfileOwner): OpenPaiProfile =>
    doc !== undefined && doc.name === user.name && doc.userCreatedAt === user.createdAt
      ? { email: doc.email, extension: doc.extension, grouplist: doc.grouplist }
      : emptyProfile();

  /** Writes `next(current)` over whatever is stored now, CAS on its revision. */
  async function write(name: string, next: (current: ProfileDoc | undefined) => ProfileDoc): Promise<ProfileDoc> {
    for (let attempt = 1; ; attempt++) {
      const cur = read(name);
      const doc = next(cur?.value);
      try {
        if (cur === undefined) await documents.create(PROFILE_NAMESPACE, profileId(name), doc);
        else await documents.update(PROFILE_NAMESPACE, profileId(name), doc, cur.revision);
        return doc;
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || attempt >= MAX_CAS_ATTEMPTS) {
          throw isAppError(err, 'CONFLICT') ? new AppError('UNAVAILABLE', `the profile of ${name} kept changing; try again`) : err;
        }
      }
    }
  }

  return {
    get: (user) => ofThisLife(read(user.name)?.value, user),

    async update(user, change) {
      const doc = await write(user.name, (cur) => {
        const profile = change(ofThisLife(cur, user));
        checkProfileSize(profile);
        return { name: user.name, userCreatedAt: user.createdAt, ...profile };
      });
      return { email: doc.email, extension: doc.extension, grouplist: doc.grouplist };
    },

    async remove(name) {
      if (read(name) === undefined) return;
      await write(name, () => ({ name, userCreatedAt: '', ...emptyProfile() }));
    },
  };
}
