import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A modal confirmation on the native `<dialog>` (showModal: focus moves into it and stays there, Esc
 * cancels, focus returns to the button that opened it), with an optional reason that goes into the
 * job's history.
 */
export function ConfirmDialog(props: { title: string; body: string; confirmLabel: string; danger?: boolean; onConfirm: (reason: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    const opener = document.activeElement as HTMLElement | null;
    d.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose}>
      <form method="dialog" onSubmit={(e) => { e.preventDefault(); props.onConfirm(reason.trim()); }}>
        <h2 id="confirm-title">{props.title}</h2>
        <p>{props.body}</p>
        <label for="confirm-reason">Reason (optional, kept in the job's history)</label>
        <input id="confirm-reason" type="text" maxLength={500} autocomplete="off" value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
        <div class="dialog-buttons">
          <button type="button" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" class={props.danger === true ? 'danger' : 'primary'}>{props.confirmLabel}</button>
        </div>
      </form>
    </dialog>
  );
}
