import { stat } from 'node:fs/promises';
import { shellQuote } from '../../ssh/ssh-exec';
import type { HostLinks, HostState } from './host-links';
import { bundleCheckCommand, parseBundleCheck, parseSha256 } from './remote-commands';

/**
 * The agent bundle onto every host, sent only where the hash differs. The hash is read through
 * each host's command shell (the bundle's directory made in the same round trip), the file
 * goes by SFTP on the command link (no agent streams run yet), and the hash is checked after.
 *
 * Hosts that report the same place for the bundle (one machine id, one directory inode: the
 * namespaces of a netns testbed, or hosts sharing an NFS home) get it once: one of them
 * uploads, the others re-read the hash, and any that still differs uploads for itself, so a
 * wrong guess about sharing costs a round trip, never a missing bundle.
 */

export interface BundleDeployEntry {
  readonly host: string;
  readonly status: 'uploaded' | 'skipped';
  /** One line for the user's log ("n2: agent up to date …"). */
  readonly message: string;
}

type Bundle = { readonly path: string; readonly sha256: string };

export async function deployBundle(
  links: HostLinks,
  bundle: Bundle,
  report: (entry: BundleDeployEntry) => void,
): Promise<void> {
  const kib = ((await stat(bundle.path)).size / 1024).toFixed(0);
  const checks = await Promise.all(
    links.hosts.map(async (h) => {
      const out = await links.run(
        h,
        bundleCheckCommand(h.bundlePath),
        `check the agent bundle ${h.bundlePath}`,
      );
      return { h, ...parseBundleCheck(out) };
    }),
  );
  const groups = new Map<string, typeof checks>();
  for (const c of checks) {
    const where = `${c.place ?? `${c.h.target.host}:${c.h.target.port}`}:${c.h.bundlePath}`;
    groups.set(where, [...(groups.get(where) ?? []), c]);
  }
  const upload = async (h: HostState): Promise<void> => {
    await links.commands(h.target.name).upload(bundle.path, h.bundlePath, { mode: 0o644 });
    const after = await hashOn(links, h);
    if (after !== bundle.sha256) {
      throw new Error(
        `upload of ${bundle.path} to ${h.target.name}:${h.bundlePath} arrived corrupted: sha256 ` +
          `${String(after)} there, ${bundle.sha256} here; try the deploy again`,
      );
    }
    report({
      host: h.target.name,
      status: 'uploaded',
      message: `${h.target.name}: agent uploaded (${kib} KiB) to ${h.bundlePath}`,
    });
  };
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const c of group.filter((x) => x.sha256 === bundle.sha256)) {
        report({
          host: c.h.target.name,
          status: 'skipped',
          message: `${c.h.target.name}: agent up to date (hash match), upload skipped`,
        });
      }
      const [first, ...others] = group.filter((x) => x.sha256 !== bundle.sha256);
      if (first === undefined) return;
      await upload(first.h);
      await Promise.all(
        others.map(async ({ h }) => {
          if ((await hashOn(links, h)) !== bundle.sha256) {
            await upload(h);
            return;
          }
          report({
            host: h.target.name,
            status: 'skipped',
            message: `${h.target.name}: agent in place (hash match) after ${first.h.target.name}'s upload to the same filesystem`,
          });
        }),
      );
    }),
  );
}

async function hashOn(links: HostLinks, h: HostState): Promise<string | null> {
  return parseSha256(
    await links.run(h, `sha256sum -- ${shellQuote(h.bundlePath)}`, `hash ${h.bundlePath}`),
  );
}
