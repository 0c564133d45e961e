#!/usr/bin/env node
// The `faultlab` command. Runs the TypeScript CLI through tsx's loader, so a checkout works
// without a separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../src-main/cli/faultlab.ts');
