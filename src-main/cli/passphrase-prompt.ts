import type { AskPassphrase } from '../ssh/ssh-auth';

/** Prompts wait for the one before them: they share one terminal and its raw mode. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * "Enter passphrase for key …" on the controlling terminal, without echo (as ssh does): raw
 * mode on stdin, characters collected until Enter, Ctrl-C or Ctrl-D cancels. One prompt at a
 * time (several hosts connect at once), and while it is open every other reader of stdin (the
 * operator console of `faultlab run`) is detached, so the passphrase goes nowhere else. Only
 * offered when stdin is a terminal; elsewhere an encrypted key is an error pointing to ssh-agent.
 */
export const askPassphraseOnTerminal: AskPassphrase = (keyPath, attempt) => {
  const turn = queue.then(() => promptOnce(keyPath, attempt));
  queue = turn.catch(() => undefined);
  return turn;
};

function promptOnce(keyPath: string, attempt: number): Promise<string | null> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const others = stdin.listeners('data') as ((chunk: Buffer) => void)[];
    const wasRaw = stdin.isRaw;
    const wasFlowing = others.length > 0;
    process.stderr.write(
      `${attempt > 1 ? 'Wrong passphrase. ' : ''}Enter passphrase for key '${keyPath}': `,
    );
    let typed = '';
    const finish = (value: string | null, rest: string): void => {
      stdin.removeListener('data', onData);
      for (const l of others) stdin.on('data', l);
      stdin.setRawMode(wasRaw);
      if (!wasFlowing) stdin.pause();
      process.stderr.write('\n');
      // What was typed after Enter is the next reader's (an operator command typed ahead).
      if (rest !== '') for (const l of others) l(Buffer.from(rest, 'utf8'));
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      let i = 0;
      for (const ch of text) {
        i += ch.length;
        if (ch === '\r' || ch === '\n') return finish(typed, text.slice(i).replace(/^\n/, ''));
        if (ch === '\u0003' || ch === '\u0004') return finish(null, '');
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    // Ours first, then theirs off: a flowing stdin never has a moment with no reader.
    stdin.on('data', onData);
    for (const l of others) stdin.removeListener('data', l);
    stdin.setRawMode(true);
    stdin.resume();
  });
}
