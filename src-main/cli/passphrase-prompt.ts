import type { AskPassphrase } from '../ssh/ssh-auth';

/**
 * "Enter passphrase for key …" on the controlling terminal, without echo (as ssh does): raw
 * mode on stdin, characters collected until Enter, Ctrl-C or Ctrl-D cancels. Only offered when
 * stdin is a terminal; elsewhere an encrypted key is an error that points to ssh-agent.
 */
export const askPassphraseOnTerminal: AskPassphrase = (keyPath, attempt) =>
  new Promise((resolve) => {
    const stdin = process.stdin;
    const again = attempt > 1 ? 'Wrong passphrase. ' : '';
    process.stderr.write(`${again}Enter passphrase for key '${keyPath}': `);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    let typed = '';
    const finish = (value: string | null): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(typed);
        if (ch === '\u0003' || ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
