/**
 * The routes of the public endpoint a region's Gslbs follow: one per hostname
 * (constructs/chat-endpoint/names.ts chatRoutes): the global name, this region's pinned name
 * and, with DNS-01, every other active region's pinned name (so it can fail over here).
 * k8gb takes every hostname of a referenced route, hence one route per name.
 */
import { k8gbGeoTag } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { chatRouteRefFor, chatRoutes, type ChatRoute, type ChatRouteRef } from '../chat-endpoint/names.js';
import type { GslbStrategy } from './gslb.js';

export interface RoutedName {
  /** The endpoint's route (its name is also the Gslb's name). */
  readonly route: ChatRoute;
  readonly ref: ChatRouteRef;
  readonly strategy: GslbStrategy;
}

/** The names `region` publishes through k8gb, each with the route it follows and its strategy. */
export function routedNames(c: Pick<PlatformConfig, 'endpoint' | 'app' | 'regions' | 'routing'>, region: Pick<Region, 'name'>): RoutedName[] {
  const geoip = c.routing?.k8gb?.geoip !== undefined;
  return chatRoutes(c, region.name).map((route) => {
    const ref = chatRouteRefFor(c, route.scope, route.pinnedTo);
    if (!ref) throw new Error('routing: there is no endpoint block, so there is no route to publish (the routing-provider rule should have refused this)');
    const strategy: GslbStrategy =
      route.scope === 'global' ? (geoip ? { type: 'geoip' } : { type: 'roundRobin' }) : { type: 'failover', primaryGeoTag: k8gbGeoTag({ name: route.pinnedTo! }) };
    return { route, ref, strategy };
  });
}
