/**
 * The NATS gateway block: the one piece that joins regions into a super-cluster. The Helm
 * values and the lab's real nats-server processes both get it from here.
 */
import { natsRegionNames, NatsEnv, type NamingConfig } from '../../regions/names.js';
import type { Region } from '../../regions/schema.js';

/** One entry of `gateway.gateways`: a region's gateway name and the URLs that reach it. */
export interface GatewayPeer {
  readonly name: string;
  readonly urls: readonly string[];
}

type GatewayRegion = Pick<Region, 'name' | 'cluster' | 'ordinal'> & { readonly state?: Region['state'] };

/**
 * The full gateway list, identical in every region (a server skips its own entry).
 * Sorted by ordinal so reordering regions in the config changes nothing. A leaving region
 * is dropped from everyone's list; its own list still names itself.
 */
export function gatewayPeers(
  c: NamingConfig & { regions: ReadonlyArray<GatewayRegion> },
  self?: Pick<Region, 'name'>,
): GatewayPeer[] {
  return [...c.regions]
    .filter((r) => r.state !== 'leaving' || r.name === self?.name)
    .sort((a, b) => a.ordinal - b.ordinal)
    .map((r) => {
      const n = natsRegionNames(c, r);
      return { name: n.gatewayName, urls: [n.gatewayUrl] };
    });
}

/** `<< $VAR >>`: the chart unquotes it so nats-server expands the env var at start-up. */
export function envReference(variable: string): string {
  return `<< $${variable} >>`;
}

/**
 * The gateway block for one region, in nats.conf terms (`config.gateway.merge` in the chart).
 * Authorization comes from env vars bound to a Secret; outgoing connections present the same
 * credentials (nats-server sends its own gateway user/password when a URL carries none).
 */
export function gatewayMergeBlock(
  c: NamingConfig & { regions: ReadonlyArray<GatewayRegion> },
  region: Pick<Region, 'name' | 'cluster'>,
): Record<string, unknown> {
  const names = natsRegionNames(c, region);
  return {
    name: names.gatewayName,
    ...(names.gatewayAdvertise ? { advertise: names.gatewayAdvertise } : {}),
    // Only the listed regions may join: no gossip-discovered strangers.
    reject_unknown_cluster: true,
    authorization: {
      user: envReference(NatsEnv.gatewayUser),
      password: envReference(NatsEnv.gatewayPassword),
      timeout: 2,
    },
    gateways: gatewayPeers(c, region).map((p) => ({ name: p.name, urls: [...p.urls] })),
  };
}
