import type { Failures } from '../client/types.ts';

/** The kind of an item's error: its leading code (`ENOENT: no such file` → ENOENT), else its first words. */
export function errorKind(message: string): string {
  const code = /^([A-Z][A-Z0-9_]{2,})\b/.exec(message);
  if (code) return code[1]!;
  return message.split(/[:(]/)[0]!.trim().slice(0, 60) || 'unknown';
}

/** Errors grouped by kind (failed tasks by code, failed items by error kind), then the failed items. */
export function FailureGroups({ failures }: { failures: Failures }) {
  if (failures.itemsFailed === 0 && failures.tasksFailed === 0 && failures.tasks.length === 0) return <p>No failures.</p>;
  const groups = new Map<string, { tasks: number; items: number; example: string }>();
  const add = (kind: string, what: 'tasks' | 'items', example: string) => {
    const g = groups.get(kind) ?? { tasks: 0, items: 0, example };
    g[what]++;
    groups.set(kind, g);
  };
  for (const t of failures.tasks) add(t.error?.code ?? 'unknown', 'tasks', t.error?.message ?? '');
  for (const i of failures.items) add(errorKind(i.error), 'items', i.error);
  return (
    <div>
      <table class="failure-groups">
        <caption>Errors by type</caption>
        <thead><tr><th scope="col">Type</th><th scope="col">Tasks</th><th scope="col">Items</th><th scope="col">Example</th></tr></thead>
        <tbody>
          {[...groups].sort((a, b) => b[1].tasks + b[1].items - (a[1].tasks + a[1].items)).map(([kind, g]) => (
            <tr key={kind}><th scope="row">{kind}</th><td>{g.tasks}</td><td>{g.items}</td><td class="wrap">{g.example}</td></tr>
          ))}
        </tbody>
      </table>
      {failures.items.length > 0 && (
        <table class="failed-items">
          <caption>Failed items ({failures.itemsFailed}{failures.truncated ? `, the first ${failures.items.length} listed` : ''})</caption>
          <thead><tr><th scope="col">Item</th><th scope="col">Task</th><th scope="col">Error</th></tr></thead>
          <tbody>
            {failures.items.map((i) => <tr key={`${i.taskId}:${i.item}`}><td class="wrap">{i.item}</td><td>{i.taskId}</td><td class="wrap">{i.error}</td></tr>)}
          </tbody>
        </table>
      )}
    </div>
  );
}
