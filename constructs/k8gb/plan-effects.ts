/** What a change of k8gb's values and objects does, for `npm run plan`. */
import type { DistObject, EffectsOf } from '../component.js';
import { same } from '../plan-effects.js';
import { ChatEndpointNames } from '../../regions/names.js';

const tags = (v: DistObject | undefined): string[] => String(v?.['k8gb']?.extGslbClustersGeoTags ?? '').split(',').filter((t) => t !== '');
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');

/** values/<cluster>/k8gb.yaml */
export const k8gbValuesEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!b) {
    const zone = a!['k8gb']?.dnsZones?.[0];
    return [`k8gb is installed in ${cluster} (geo tag ${a!['k8gb']?.clusterGeoTag}, pairs with ${list(tags(a))}): its CoreDNS LoadBalancer answers for ${zone?.loadBalancedZone} on port 53 and its external-dns adds this region's NS + glue records in ${zone?.parentZone}`];
  }
  if (!a) return [`k8gb in ${cluster} is no longer managed (its Application element is gone; the release, its CoreDNS and its delegation records are preserved: uninstall by hand once no resolver uses them)`];
  const [tb, ta] = [tags(b), tags(a)];
  const rest = (v: DistObject) => ({ ...v, k8gb: { ...v['k8gb'], extGslbClustersGeoTags: undefined } });
  const effects: string[] = [];
  if (!same(tb, ta)) {
    const added = ta.filter((t) => !tb.includes(t));
    const removed = tb.filter((t) => !ta.includes(t));
    effects.push(
      `k8gb in ${cluster} pairs with ${list(ta)} (was ${list(tb)}${added.length ? `; adds ${added.join(', ')}` : ''}${removed.length ? `; drops ${removed.join(', ')}` : ''}): the operator restarts with the new list, CoreDNS keeps answering`,
    );
  }
  if (!same(rest(b), rest(a))) effects.push(`k8gb in ${cluster}: chart settings change; the operator, CoreDNS or external-dns pods restart where their spec changed`);
  return effects;
};

const which = (name: string) => (name === ChatEndpointNames.route ? 'the global name (Gslb chat)' : `the pinned name of Gslb ${name}`);

/** Gslb chat-global / chat-region. */
export const gslbEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  const o = (a ?? b)!;
  const what = which(o['metadata'].name);
  const strategy = (x: DistObject) => `${x['spec']?.strategy?.type}${x['spec']?.strategy?.primaryGeoTag ? ` (primary ${x['spec'].strategy.primaryGeoTag})` : ''}`;
  if (!b) return [`k8gb in ${cluster} publishes ${what} (${strategy(a!)}, TTL ${a!['spec']?.strategy?.dnsTtlSeconds} s) with this region's addresses while its chat backend has ready pods`];
  if (!a) return [`k8gb in ${cluster} stops publishing ${what}: this region's addresses leave it within reconcile + TTL; open WebSockets stay until they close`];
  if (!same(b['spec']?.strategy, a['spec']?.strategy)) return [`k8gb in ${cluster}: ${what} moves to ${strategy(a)} (was ${strategy(b)}), TTL ${a['spec']?.strategy?.dnsTtlSeconds} s`];
  return [`k8gb in ${cluster}: ${what} now follows ${a['spec']?.resourceRef?.kind} ${a['spec']?.resourceRef?.name}`];
};

/** ConfigMap k8gb-coredns (with a GeoIP database or ACME challenge CNAMEs). */
export const corefileEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  const cnames = (o: DistObject | undefined) => String(o?.['data']?.Corefile ?? '').match(/ IN CNAME /g)?.length ?? 0;
  if (!b) return [`k8gb's CoreDNS in ${cluster} takes regionmesh's Corefile (${cnames(a)} ACME challenge CNAME(s)${/geodatafilepath/.test(a!['data']?.Corefile ?? '') ? ', GeoIP' : ''}), reloaded within 30 s`];
  if (!a) return [`k8gb's CoreDNS in ${cluster} goes back to the chart's Corefile`];
  return [`k8gb's CoreDNS in ${cluster} reloads its Corefile within 30 s (${cnames(a)} ACME challenge CNAME(s), was ${cnames(b)})`];
};
