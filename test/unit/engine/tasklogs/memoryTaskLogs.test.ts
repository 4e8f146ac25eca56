import { createMemoryTaskLogs } from '../../../../engine/tasklogs/memoryTaskLogs.ts';
import { CONTRACT_MAX_BYTES_PER_TASK, taskLogsContract } from '../../../contract/taskLogs.contract.ts';

taskLogsContract('memory', async () => {
  const logs = createMemoryTaskLogs({ maxBytesPerTask: CONTRACT_MAX_BYTES_PER_TASK });
  return { logs, cleanup: () => logs.close() };
});
