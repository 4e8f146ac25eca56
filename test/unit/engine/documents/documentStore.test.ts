/**
 * documentStore.ts over the in-memory control store: documents live under `doc.<ns>.<id>`, CAS on
 * the revision, and `delete` removes one (a second delete, or of one never written, is no error)
 * after checking the namespace and id like every other call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createDocumentStore } from '../../../../engine/documents/documentStore.ts';
import { isAppError } from '../../../../engine/errors.ts';

const A = '0b7e3a52-51a1-4a4e-9d6b-3f0a8a1d2c11';
const B = '7f3c9a10-0c2d-4e5f-8a6b-9c0d1e2f3a4b';

describe('DocumentStore', () => {
  it('delete removes the document and only it; deleting again or a document never written is no error', async () => {
    const control = createMemoryControlStore();
    const docs = createDocumentStore(control);
    await docs.create('ns', A, { v: 1 });
    await docs.create('ns', B, { v: 2 });
    await docs.create('other', A, { v: 3 });
    await docs.delete('ns', A);
    assert.equal(docs.get('ns', A), undefined);
    assert.equal(control.get(`doc.ns.${A}`), undefined);
    assert.deepEqual(docs.list('ns').map((d) => d.id), [B]);
    assert.deepEqual(docs.get('other', A)?.value, { v: 3 });
    await docs.delete('ns', A);
    await docs.delete('never', B);
    // the id is free again
    await docs.create('ns', A, { v: 4 });
    assert.deepEqual(docs.get('ns', A)?.value, { v: 4 });
  });

  it('delete checks the namespace and the id before they become part of a key', async () => {
    const docs = createDocumentStore(createMemoryControlStore());
    await assert.rejects(docs.delete('ns', 'not-a-uuid'), (e: unknown) => isAppError(e, 'INVALID_ID'));
    await assert.rejects(docs.delete('ns', A.toUpperCase()), (e: unknown) => isAppError(e, 'INVALID_ID'));
    await assert.rejects(docs.delete('a.b', A), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'));
    await assert.rejects(docs.delete('>', A), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'));
  });

  it('create refuses an id that exists and update a stale revision; get, list and count see what was written', async () => {
    const docs = createDocumentStore(createMemoryControlStore());
    const rev = await docs.create('ns', A, { v: 1 });
    await assert.rejects(docs.create('ns', A, { v: 2 }), (e: unknown) => isAppError(e, 'CONFLICT'));
    const next = await docs.update('ns', A, { v: 2 }, rev);
    await assert.rejects(docs.update('ns', A, { v: 3 }, rev), (e: unknown) => isAppError(e, 'CONFLICT'));
    assert.deepEqual(docs.get('ns', A), { value: { v: 2 }, revision: next });
    assert.equal(docs.count('ns'), 1);
  });
});
