import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { controlStoreContract } from '../../../contract/controlStore.contract.ts';

controlStoreContract('memory', async () => ({ store: createMemoryControlStore(), cleanup: async () => undefined }));
