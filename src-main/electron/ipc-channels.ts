/**
 * IPC channel names shared by the preload and the main process. One channel per bridge
 * function; there is deliberately no generic "send to any channel" path.
 */
export const IPC_CHANNELS = {
  openLabFile: 'faultlab:desktop/open-lab-file',
  revealRunFolder: 'faultlab:desktop/reveal-run-folder',
} as const;
