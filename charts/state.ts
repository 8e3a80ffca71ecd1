/**
 * dist/STATE.json: the identities that must never change by accident (region names and
 * ordinals, DC names, Cassandra cluster name, pgEdge appName, server versions). Plan and
 * synth compare the next config with the state of the dist they replace. ArgoCD ignores
 * the file (it is outside every synced folder).
 */
import type { PlatformConfig } from '../regions/schema.js';

export const STATE_FILE = 'STATE.json';

export interface RegionState {
  readonly name: string;
  readonly ordinal: number;
  readonly cluster: string;
  readonly state: 'active' | 'joining' | 'leaving';
  readonly datacenter: string;
  readonly size: number;
}

export interface PlatformState {
  readonly platform: string;
  readonly cassandra: { readonly clusterName: string; readonly serverVersion: string; readonly replicationFactor: number };
  readonly postgres: { readonly appName: string; readonly image: string };
  readonly nats: { readonly image: string };
  readonly regions: readonly RegionState[];
}

export function platformState(c: PlatformConfig): PlatformState {
  return {
    platform: c.platform,
    cassandra: {
      clusterName: c.cassandra.clusterName,
      serverVersion: c.cassandra.serverVersion,
      replicationFactor: c.cassandra.replicationFactor,
    },
    postgres: { appName: c.postgres.appName, image: c.postgres.image },
    nats: { image: `${c.nats.image.repository}:${c.nats.image.tag}` },
    regions: [...c.regions]
      .sort((a, b) => a.ordinal - b.ordinal)
      .map((r) => ({
        name: r.name,
        ordinal: r.ordinal,
        cluster: r.cluster,
        state: r.state,
        datacenter: r.cassandra.datacenter,
        size: r.cassandra.size,
      })),
  };
}

export function stateText(c: PlatformConfig): string {
  return `${JSON.stringify(platformState(c), null, 2)}\n`;
}

/** Parses a STATE.json; undefined when absent. Throws with the path when it is corrupt. */
export function parseState(text: string | undefined, where: string): PlatformState | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as PlatformState;
    if (!Array.isArray(s.regions) || typeof s.platform !== 'string') throw new Error('missing platform or regions');
    return s;
  } catch (e) {
    throw new Error(`${where}: not a regionmesh state file (${(e as Error).message}); restore it from Git`);
  }
}
