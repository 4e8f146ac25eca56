/** Reading a password: no echo on a terminal (raw mode on, then off), the first line of stdin, never without one of the two. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { passwordFromStdin, promptPassword } from '../../../../cli/native/password.ts';

function terminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[], setRawMode(m: boolean) { this.modes.push(m); } });
  const written: string[] = [];
  return { stdin, written, io: { stdin, stdout: { write: () => true }, stderr: { write: (s: string) => written.push(s) } } };
}

it('asks on the terminal without echoing what is typed; backspace edits', async () => {
  const t = terminal();
  const answer = promptPassword(t.io, 'Password: ');
  t.stdin.write('s3cret!');
  t.stdin.write('\u007fx\r');
  assert.equal(await answer, 's3cretx');
  assert.deepEqual(t.stdin.modes, [true, false], 'raw mode (no echo) while typing, restored after');
  assert.equal(t.written.join(''), 'Password: \n', 'nothing typed was written back');
});

it('Ctrl-C at the prompt is no password; without a terminal it points to --password-stdin', async () => {
  const t = terminal();
  const answer = promptPassword(t.io, 'Password: ');
  t.stdin.write('abc\u0003');
  await assert.rejects(answer, /no password given/);
  await assert.rejects(promptPassword({ stdin: Object.assign(new PassThrough(), { isTTY: false }), stdout: { write: () => true }, stderr: { write: () => true } }, 'P: '), /--password-stdin/);
});

it('--password-stdin takes the first line', async () => {
  const stdin = new PassThrough();
  stdin.end('correct horse battery\nignored\n');
  assert.equal(await passwordFromStdin({ stdin, stdout: { write: () => true }, stderr: { write: () => true } }), 'correct horse battery');
});
