/**
 * SshConnection against a real sshd: exec (bounded in time and output), upload only when the
 * hash differs, streamlocal forwarding to a Unix socket, an interactive pty shell, and the two
 * ways to log in without passwords (an encrypted key with a prompted passphrase, ssh-agent).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SSH_KEYGEN_PATH,
  sshdUnavailableReason,
  startSshd,
  type TestSshd,
} from '../../support/sshd';
import { ConnectionPool, trusting } from './ssh-test-kit';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping SSH connection tests: ${unavailable}`);

const PASSPHRASE = 'correct horse battery staple';

describe.skipIf(unavailable !== null)(
  'SshConnection against real OpenSSH',
  { timeout: 30_000 },
  () => {
    let sshd: TestSshd;
    let dir: string;
    let encryptedKey: string;
    const pool = new ConnectionPool();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'faultlab-ssh-conn-'));
      encryptedKey = join(dir, 'encrypted_ed25519');
      const made = spawnSync(
        SSH_KEYGEN_PATH,
        ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'encrypted', '-f', encryptedKey],
        { timeout: 10_000 },
      );
      expect(made.status).toBe(0);
      sshd = await startSshd({
        extraAuthorizedKeys: [readFileSync(`${encryptedKey}.pub`, 'utf8').trim()],
      });
    });
    afterEach(() => pool.disposeAll());
    afterAll(async () => {
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('connects with a key and runs `hostname`', async () => {
      const connection = await pool.connect(sshd, trusting(dir, sshd));
      expect(connection.state).toBe('connected');
      const result = await connection.exec('hostname');
      expect(result).toMatchObject({ code: 0, stdout: `${hostname()}\n`, truncated: false });
      const failing = await connection.exec('echo oops >&2; exit 3');
      expect(failing).toMatchObject({ code: 3, stderr: 'oops\n' });
    });

    it('bounds exec in time and in output', async () => {
      const connection = await pool.connect(sshd, trusting(dir, sshd));
      const started = Date.now();
      await expect(connection.exec('sleep 20', { timeoutMs: 300 })).rejects.toThrow(
        /did not finish within 300 ms.*sleep 20/,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      const big = await connection.exec('head -c 100000 /dev/zero', { maxOutputBytes: 1000 });
      expect(big.code).toBe(0);
      expect(big.stdout.length).toBe(1000);
      expect(big.truncated).toBe(true);
    });

    it('uploads a file, skips the second upload on hash match, uploads again after a change', async () => {
      const connection = await pool.connect(sshd, trusting(dir, sshd));
      const local = join(dir, 'bundle.js');
      const content = randomBytes(300_000);
      await writeFile(local, content);
      const remote = join(dir, 'remote', 'deep', 'bundle.js');
      const first = await connection.uploadIfChanged(local, remote, { mode: 0o755 });
      expect(first.status).toBe('uploaded');
      expect(first.bytes).toBe(content.length);
      expect(createHash('sha256').update(readFileSync(remote)).digest('hex')).toBe(first.sha256);
      const second = await connection.uploadIfChanged(local, remote);
      expect(second.status).toBe('skipped');
      expect(second.message).toContain('skipped (hash match)');
      await writeFile(local, Buffer.concat([content, Buffer.from('changed')]));
      const third = await connection.uploadIfChanged(local, remote);
      expect(third.status).toBe('uploaded');
      expect(readFileSync(remote).subarray(-7).toString()).toBe('changed');
      // No temporary file is left beside the target.
      const leftovers = await connection.exec(`ls ${join(dir, 'remote', 'deep')}`);
      expect(leftovers.stdout).toBe('bundle.js\n');
    });

    it('forwards a stream to a Unix socket on the host (echo round-trip)', async () => {
      const socketPath = join(dir, 'agent.sock');
      const accepted = new Set<Socket>();
      const server: Server = createServer((socket) => {
        accepted.add(socket);
        socket.pipe(socket);
      });
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      try {
        const connection = await pool.connect(sshd, trusting(dir, sshd));
        const stream = await connection.forwardStreamLocal(socketPath);
        const echoed = new Promise<string>((resolve) => {
          let got = '';
          stream.on('data', (chunk: Buffer) => {
            got += chunk.toString();
            if (got.includes('\n')) resolve(got);
          });
        });
        stream.write('ping over ssh\n');
        expect(await echoed).toBe('ping over ssh\n');
        await expect(connection.forwardStreamLocal(join(dir, 'no-such.sock'))).rejects.toThrow(
          /cannot reach Unix socket .*no-such\.sock on root@127\.0\.0\.1/,
        );
      } finally {
        // close() waits for open connections; the forwarded one is ours to end.
        for (const socket of accepted) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('opens a pty shell that answers `hostname` and follows a resize', async () => {
      const connection = await pool.connect(sshd, trusting(dir, sshd));
      const shell = await connection.shell({ rows: 24, cols: 80 });
      let screen = '';
      shell.stream.on('data', (chunk: Buffer) => {
        screen = (screen + chunk.toString()).slice(-64 * 1024);
      });
      const waitFor = async (pattern: RegExp): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (!pattern.test(screen)) {
          if (Date.now() > deadline)
            throw new Error(`shell never printed ${String(pattern)}:\n${screen}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      };
      // Markers printed by the shell, not echoed by the tty: `echo A""B` echoes as typed.
      shell.write('hostname; echo END""-OF-HOSTNAME\n');
      await waitFor(/END-OF-HOSTNAME/);
      expect(screen).toContain(hostname());
      shell.resize(40, 100);
      shell.write('stty size; echo END""-OF-SIZE\n');
      await waitFor(/END-OF-SIZE/);
      expect(screen).toMatch(/40 100/);
      shell.dispose();
      expect(shell.isClosed).toBe(true);
    });

    it('logs in with an encrypted key, asking for the passphrase (a wrong one is retried)', async () => {
      const asked: number[] = [];
      const connection = await pool.connect(sshd, trusting(dir, sshd), {
        identityFiles: [encryptedKey],
        askPassphrase: (path, attempt) => {
          expect(path).toBe(encryptedKey);
          asked.push(attempt);
          return Promise.resolve(attempt === 1 ? 'wrong' : PASSPHRASE);
        },
      });
      expect(asked).toEqual([1, 2]);
      expect((await connection.exec('echo in')).stdout).toBe('in\n');
      await expect(
        pool.connect(sshd, trusting(dir, sshd), {
          identityFiles: [encryptedKey],
          askPassphrase: () => Promise.resolve(null),
        }),
      ).rejects.toThrow(/passphrase for .*encrypted_ed25519.* was not given/);
    });

    it('logs in through ssh-agent (SSH_AUTH_SOCK) with no identity file', async () => {
      const agentSocket = join(dir, 'agent-auth.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
      try {
        const deadline = Date.now() + 5_000;
        while (!existsSync(agentSocket)) {
          if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const added = spawnSync('ssh-add', [sshd.clientKeyPath], {
          env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
          timeout: 10_000,
        });
        expect(added.status).toBe(0);
        const connection = await pool.connect(sshd, trusting(dir, sshd), {
          identityFiles: [],
          agentSocket,
        });
        expect((await connection.exec('echo via-agent')).stdout).toBe('via-agent\n');
      } finally {
        agent.kill('SIGTERM');
      }
    });

    it('says which key and user failed when the server accepts none', async () => {
      const stranger = join(dir, 'stranger');
      spawnSync(SSH_KEYGEN_PATH, ['-q', '-t', 'ed25519', '-N', '', '-f', stranger], {
        timeout: 10_000,
      });
      await expect(
        pool.connect(sshd, trusting(dir, sshd), { identityFiles: [stranger] }),
      ).rejects.toThrow(
        /cannot connect to root@127\.0\.0\.1:\d+: .*accepted none of our keys for user root/,
      );
    });
  },
);
