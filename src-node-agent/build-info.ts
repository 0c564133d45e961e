/** Replaced by the package version when scripts/build-agent.mjs bundles the agent (esbuild `define`). */
declare const __FAULTLAB_VERSION__: string | undefined;

/** The FaultLab version this agent was built from; `0.0.0-dev` when run from source. */
export const AGENT_VERSION: string =
  typeof __FAULTLAB_VERSION__ === 'string' ? __FAULTLAB_VERSION__ : '0.0.0-dev';
