import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { endClient, explainConnectError } from './connect-error';
import { HostKeyError, hostVerification, type AcceptUnknownHost } from './host-key-policy';
import { preferredHostKeyAlgorithms, type KnownHosts } from './known-hosts';
import { loadAuth, type AskPassphrase, type LoadedAuth } from './ssh-auth';
import { execOn, type ExecOptions, type ExecResult } from './ssh-exec';
import { openShell, type ShellOptions, type SshShell } from './ssh-shell';
import { uploadFile, uploadIfChanged, type UploadOptions, type UploadResult } from './sftp-upload';

/**
 * One SSH connection to one host, over ssh2: verified host key, key or agent auth, optional
 * ProxyJump through another SshConnection, keep-alives, and reconnection with exponential
 * backoff when an established link drops. Everything it opens (channels, shells, timers, the
 * client) is tracked and closed by `dispose()`.
 *
 * A first connect that fails throws (a wrong key or host must reach the user at once); only a
 * link that was up and then dropped is retried. A changed host key is never retried.
 */

export type SshConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface SshStateChange {
  readonly state: SshConnectionState;
  /** `user@host:port`. */
  readonly where: string;
  /** Reconnect attempt about to be made (1-based), 0 otherwise. */
  readonly attempt: number;
  /** Delay before that attempt. */
  readonly delayMs: number | null;
  /** Why the link dropped or the last attempt failed. */
  readonly error: Error | null;
}

export interface ReconnectPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  maxAttempts: 8,
  initialDelayMs: 250,
  maxDelayMs: 8_000,
};

export interface SshConnectionOptions {
  readonly host: string;
  readonly port?: number;
  readonly user: string;
  readonly identityFiles?: readonly string[];
  readonly askPassphrase?: AskPassphrase;
  /** Default $SSH_AUTH_SOCK; null = no agent. */
  readonly agentSocket?: string | null;
  readonly knownHosts: KnownHosts;
  readonly acceptUnknownHost?: AcceptUnknownHost;
  /** Reach the host through this connection (ProxyJump). Not owned: not disposed with us. */
  readonly jump?: SshConnection;
  /** Default 5000 ms; with keepaliveCountMax 3, a dead peer is noticed within ~15 s. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Handshake + auth bound; default 15 s. */
  readonly readyTimeoutMs?: number;
  /** false = a dropped link stays down (state 'failed'). */
  readonly reconnect?: ReconnectPolicy | false;
  /** Non-fatal notes (skipped known_hosts lines, …). */
  readonly onWarning?: (message: string) => void;
}

const MAX_OPEN_CHANNELS = 256;

export class SshConnection {
  readonly where: string;
  private readonly port: number;
  private client: Client | null = null;
  private stateValue: SshConnectionState = 'connecting';
  private readonly listeners = new Set<(change: SshStateChange) => void>();
  /** Closers of open channels and shells, so dispose() and a drop close them all. */
  private readonly channels = new Set<() => void>();
  private auth: LoadedAuth | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private wakeReconnect: (() => void) | null = null;
  private disposed = false;

  private constructor(private readonly options: SshConnectionOptions) {
    this.port = options.port ?? 22;
    this.where = `${options.user}@${options.host}:${String(this.port)}`;
  }

  /** Connect (throws a message naming the host and what to do when it cannot). */
  static async connect(options: SshConnectionOptions): Promise<SshConnection> {
    const connection = new SshConnection(options);
    try {
      connection.client = await connection.openClient();
    } catch (err) {
      connection.disposed = true;
      connection.stateValue = 'failed';
      throw err;
    }
    connection.setState({ state: 'connected', attempt: 0, delayMs: null, error: null });
    return connection;
  }

  get state(): SshConnectionState {
    return this.stateValue;
  }

  /** Subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: (change: SshStateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolve when connected; reject on 'failed'/'closed' or after `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.stateValue === 'connected') return Promise.resolve();
    if (this.stateValue === 'failed' || this.stateValue === 'closed') {
      return Promise.reject(new Error(`SSH connection to ${this.where} is ${this.stateValue}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `SSH connection to ${this.where} still ${this.stateValue} after ${String(timeoutMs)} ms`,
          ),
        );
      }, timeoutMs);
      const off = this.onStateChange((change) => {
        if (change.state === 'reconnecting' || change.state === 'connecting') return;
        clearTimeout(timer);
        off();
        if (change.state === 'connected') resolve();
        else
          reject(
            new Error(
              `SSH connection to ${this.where} ${change.state}: ${change.error?.message ?? 'closed'}`,
            ),
          );
      });
    });
  }

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return execOn(this.requireClient(), command, this.where, options);
  }

  async uploadIfChanged(
    localPath: string,
    remotePath: string,
    options?: UploadOptions,
  ): Promise<UploadResult> {
    return uploadIfChanged(this.requireClient(), localPath, remotePath, this.where, options);
  }

  /** Send a file by SFTP only (the directory must exist); see sftp-upload.ts. */
  async upload(localPath: string, remotePath: string, options?: UploadOptions): Promise<void> {
    return uploadFile(this.requireClient(), localPath, remotePath, this.where, options);
  }

  /** A long-lived command whose stdin/stdout stay open (a command shell); closed by dispose(). */
  async execStream(command: string): Promise<ClientChannel> {
    const client = this.requireClient();
    return this.track(
      new Promise((resolve, reject) => {
        client.exec(command, (err, stream) => {
          if (err !== undefined && err !== null) {
            reject(new Error(`cannot run a command on ${this.where}: ${err.message}: ${command}`));
          } else {
            resolve(stream);
          }
        });
      }),
    );
  }

  /** A stream to a Unix socket on the host (OpenSSH streamlocal forwarding). */
  async forwardStreamLocal(socketPath: string): Promise<ClientChannel> {
    const client = this.requireClient();
    return this.track(
      new Promise((resolve, reject) => {
        client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
          if (err !== undefined && err !== null) {
            reject(
              new Error(
                `cannot reach Unix socket ${socketPath} on ${this.where}: ${err.message}; is the agent running, and does the server allow AllowStreamLocalForwarding?`,
              ),
            );
          } else {
            resolve(stream);
          }
        });
      }),
    );
  }

  /** A stream to `host:port` as seen from this host (how ProxyJump reaches the next hop). */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    const client = this.requireClient();
    return this.track(
      new Promise((resolve, reject) => {
        client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
          if (err !== undefined && err !== null) {
            reject(
              new Error(
                `jump host ${this.where} cannot reach ${host}:${String(port)}: ${err.message}; check the address and AllowTcpForwarding on the jump host`,
              ),
            );
          } else {
            resolve(stream);
          }
        });
      }),
    );
  }

  async shell(options?: ShellOptions): Promise<SshShell> {
    const shell = await openShell(this.requireClient(), this.where, options);
    this.remember(() => shell.dispose(), shell.stream);
    return shell;
  }

  /** Close every channel and the connection; stop reconnecting. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed && this.client === null) return;
    this.disposed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.wakeReconnect?.();
    for (const close of Array.from(this.channels)) close();
    this.channels.clear();
    const client = this.client;
    this.client = null;
    if (client !== null) await endClient(client);
    if (this.stateValue !== 'closed') {
      this.setState({ state: 'closed', attempt: 0, delayMs: null, error: null });
    }
    this.listeners.clear();
  }

  private requireClient(): Client {
    if (this.client === null || this.stateValue !== 'connected') {
      throw new Error(
        `not connected to ${this.where} (state: ${this.stateValue}); wait for the connection (whenConnected) or reconnect`,
      );
    }
    return this.client;
  }

  private async track(opening: Promise<ClientChannel>): Promise<ClientChannel> {
    const stream = await opening;
    this.remember(() => stream.close(), stream);
    return stream;
  }

  /** Register `close` for disposal until `stream` closes. */
  private remember(close: () => void, stream: Duplex): void {
    if (this.channels.size >= MAX_OPEN_CHANNELS) {
      close();
      throw new Error(
        `too many open channels on ${this.where} (${String(MAX_OPEN_CHANNELS)}); close some before opening more`,
      );
    }
    this.channels.add(close);
    stream.once('close', () => this.channels.delete(close));
  }

  private setState(change: Omit<SshStateChange, 'where'>): void {
    this.stateValue = change.state;
    const full = { ...change, where: this.where };
    for (const listener of Array.from(this.listeners)) listener(full);
  }

  /** One connection attempt: jump stream, host-key verification, auth. */
  private async openClient(): Promise<Client> {
    const { options } = this;
    this.auth ??= await loadAuth(
      {
        user: options.user,
        identityFiles: options.identityFiles ?? [],
        askPassphrase: options.askPassphrase,
        agentSocket: options.agentSocket,
      },
      this.where,
    );
    const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
    let sock: ClientChannel | undefined;
    if (options.jump !== undefined) {
      await options.jump.whenConnected(readyTimeoutMs);
      sock = await options.jump.forwardOut(options.host, this.port);
    }
    const knownTypes = await options.knownHosts.knownKeyTypes(options.host, this.port);
    const preferred = preferredHostKeyAlgorithms(knownTypes);
    const verification = hostVerification(
      options.knownHosts,
      options.host,
      this.port,
      options.acceptUnknownHost,
      options.onWarning ?? (() => undefined),
    );
    const client = new Client();
    const config: ConnectConfig = {
      host: options.host,
      port: this.port,
      username: options.user,
      hostVerifier: verification.verifier,
      authHandler: [...this.auth.methods],
      keepaliveInterval: options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      readyTimeout: readyTimeoutMs,
      ...(sock === undefined ? {} : { sock }),
      ...(preferred.length === 0
        ? {}
        : { algorithms: { serverHostKey: { remove: preferred, prepend: preferred } as never } }),
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        cleanup();
        client.end();
        sock?.close();
        reject(
          verification.rejection() ??
            explainConnectError(err, this.where, options.user, this.auth?.skipped ?? []),
        );
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(
          verification.rejection() ??
            new Error(`SSH connection to ${this.where} closed during the handshake`),
        );
      };
      const cleanup = (): void => {
        client.off('error', onError);
        client.off('ready', onReady);
        client.off('close', onClose);
      };
      // A failed client can still emit (ECONNRESET after end()); the attempt's outcome is
      // already decided, so later errors are dropped instead of crashing the process.
      client.on('error', () => undefined);
      client.on('error', onError).on('ready', onReady).on('close', onClose);
      try {
        client.connect(config);
      } catch (err) {
        onError(err as Error);
      }
    });
    let lastError: Error | null = null;
    client.on('error', (err: Error) => {
      lastError = err;
    });
    client.once('close', () => this.handleDrop(client, lastError));
    return client;
  }

  private handleDrop(client: Client, error: Error | null): void {
    if (this.client !== client) return;
    this.client = null;
    for (const close of Array.from(this.channels)) close();
    this.channels.clear();
    if (this.disposed) return;
    const policy = this.options.reconnect ?? DEFAULT_RECONNECT;
    const reason = error ?? new Error(`SSH connection to ${this.where} closed`);
    if (policy === false) {
      this.setState({ state: 'failed', attempt: 0, delayMs: null, error: reason });
      return;
    }
    void this.reconnectLoop(policy, reason);
  }

  private async reconnectLoop(policy: ReconnectPolicy, dropped: Error): Promise<void> {
    let lastError = dropped;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      const delayMs = Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
      this.setState({ state: 'reconnecting', attempt, delayMs, error: lastError });
      await new Promise<void>((resolve) => {
        this.wakeReconnect = resolve;
        this.reconnectTimer = setTimeout(resolve, delayMs);
      });
      this.reconnectTimer = null;
      this.wakeReconnect = null;
      if (this.disposed) return;
      try {
        const client = await this.openClient();
        if (this.disposed) {
          await endClient(client);
          return;
        }
        this.client = client;
        this.setState({ state: 'connected', attempt, delayMs: null, error: null });
        return;
      } catch (err) {
        lastError = err as Error;
        // A changed or unknown key will not fix itself; retrying would only hide the alarm.
        if (err instanceof HostKeyError) break;
      }
    }
    if (this.disposed) return;
    this.setState({
      state: 'failed',
      attempt: 0,
      delayMs: null,
      error: new Error(
        `lost the SSH connection to ${this.where} and could not reconnect: ${lastError.message}`,
        { cause: lastError },
      ),
    });
  }
}
