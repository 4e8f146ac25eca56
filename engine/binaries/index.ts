/** Uploaded binaries: the store interface, its memory twin and the object-store adapter. */
export {
  BINARY_NAME_RE,
  DEFAULT_MAX_BINARY_BYTES,
  checkBinaryName,
  type BinaryInfo,
  type BinaryReader,
  type BinarySource,
  type BinaryStore,
  type PutBinaryOptions,
} from './binaryStore.ts';
export { createMemoryBinaryStore, type MemoryBinaryStore, type MemoryBinaryStoreOptions } from './memoryBinaryStore.ts';
export { createObjBinaryStore, type ObjBinaryStoreOptions } from '../nats/objBinaryStore.ts';
