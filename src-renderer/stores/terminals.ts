import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiPush, TerminalTarget } from '../../src-main/api/api-schema';
import { errorText } from '../api/api-call-error';
import { useConnectionStore } from './connection';

export interface TerminalTab {
  readonly terminalId: string;
  readonly title: string;
  exited: string | null;
}

/** Output held for a terminal whose xterm is not mounted yet (bounded; the server waits for acks). */
const MAX_HELD_CHARS = 1 << 20;
const MAX_TERMINALS = 8;

type Sink = (data: string) => void;

/**
 * Open terminals (local shell or a node's shell) and the routing of their output to the xterm
 * that shows them. The xterm acks what it has written, which is the server's signal to send more.
 */
export const useTerminalsStore = defineStore('terminals', () => {
  const tabs = ref<TerminalTab[]>([]);
  const active = ref<string | null>(null);
  const opening = ref(false);
  const error = ref<string | null>(null);
  const sinks = new Map<string, Sink>();
  const held = new Map<string, string[]>();

  async function open(target: TerminalTarget, cols: number, rows: number): Promise<void> {
    if (tabs.value.length >= MAX_TERMINALS) {
      error.value = `At most ${MAX_TERMINALS} terminals can be open; close one first.`;
      return;
    }
    opening.value = true;
    error.value = null;
    try {
      const result = await useConnectionStore().api().call('terminal.open', { target, cols, rows });
      tabs.value = [
        ...tabs.value,
        { terminalId: result.terminalId, title: result.title, exited: null },
      ];
      active.value = result.terminalId;
    } catch (e) {
      const what = target.kind === 'local' ? 'a local shell' : `a shell on ${target.node}`;
      error.value = `Could not open ${what}: ${errorText(e)}`;
    } finally {
      opening.value = false;
    }
  }

  /** The xterm for `terminalId` is ready: deliver what was held, then everything as it comes. */
  function attach(terminalId: string, sink: Sink): () => void {
    sinks.set(terminalId, sink);
    const pending = held.get(terminalId);
    held.delete(terminalId);
    for (const chunk of pending ?? []) sink(chunk);
    return () => {
      if (sinks.get(terminalId) === sink) sinks.delete(terminalId);
    };
  }

  function call(method: 'terminal.input', p: { terminalId: string; data: string }): void;
  function call(method: 'terminal.ack', p: { terminalId: string; bytes: number }): void;
  function call(
    method: 'terminal.resize',
    p: { terminalId: string; cols: number; rows: number },
  ): void;
  function call(
    method: 'terminal.input' | 'terminal.ack' | 'terminal.resize',
    p: { terminalId: string; data?: string; bytes?: number; cols?: number; rows?: number },
  ): void {
    const api = useConnectionStore().api();
    // Fire and forget: a failure here means the terminal is gone, which terminal-exit reports.
    void (api.call as (m: string, p: unknown) => Promise<unknown>)(method, p).catch(
      (e: unknown) => {
        error.value = `${method} failed: ${errorText(e)}`;
      },
    );
  }

  function input(terminalId: string, data: string): void {
    call('terminal.input', { terminalId, data });
  }

  /**
   * Written to the screen: tell the server it may send this much more. The server's flow
   * control (server/terminal/terminal-flow.ts) counts string length, so that is what is acked.
   */
  function ack(terminalId: string, data: string): void {
    call('terminal.ack', { terminalId, bytes: data.length });
  }

  function resize(terminalId: string, cols: number, rows: number): void {
    call('terminal.resize', { terminalId, cols, rows });
  }

  async function close(terminalId: string): Promise<void> {
    sinks.delete(terminalId);
    held.delete(terminalId);
    const tab = tabs.value.find((t) => t.terminalId === terminalId);
    tabs.value = tabs.value.filter((t) => t.terminalId !== terminalId);
    if (active.value === terminalId)
      active.value = tabs.value[tabs.value.length - 1]?.terminalId ?? null;
    if (tab !== undefined && tab.exited === null) {
      try {
        await useConnectionStore().api().call('terminal.close', { terminalId });
      } catch {
        // Already gone on the server side; the tab is closed either way.
      }
    }
  }

  /** Server terminals end with the connection that opened them; say so on every open tab. */
  function connectionLost(): void {
    for (const tab of tabs.value) {
      tab.exited ??= 'the connection to the orchestrator was lost; open a new terminal';
    }
    sinks.clear();
    held.clear();
  }

  function onPush(push: ApiPush): void {
    if (push.push === 'terminal-data') {
      const sink = sinks.get(push.terminalId);
      if (sink !== undefined) {
        sink(push.data);
        return;
      }
      const list = held.get(push.terminalId) ?? [];
      let size = list.reduce((n, c) => n + c.length, 0);
      list.push(push.data);
      size += push.data.length;
      while (size > MAX_HELD_CHARS && list.length > 1) size -= list.shift()?.length ?? 0;
      held.set(push.terminalId, list);
    } else if (push.push === 'terminal-exit') {
      const tab = tabs.value.find((t) => t.terminalId === push.terminalId);
      if (tab !== undefined) {
        tab.exited = `${push.reason}${push.code !== null ? ` (exit code ${push.code})` : ''}`;
      }
    }
  }

  return {
    tabs,
    active,
    opening,
    error,
    open,
    attach,
    input,
    ack,
    resize,
    close,
    onPush,
    connectionLost,
  };
});
