import { createMemoryBinaryStore } from '../../../../engine/binaries/index.ts';
import { binaryStoreContract } from '../../../contract/binaryStore.contract.ts';

binaryStoreContract('memory', async () => {
  const store = createMemoryBinaryStore();
  return { store, storedBytes: async () => store.storedBytes(), cleanup: async () => undefined };
});
