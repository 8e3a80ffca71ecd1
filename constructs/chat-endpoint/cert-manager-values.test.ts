/** What the endpoint asks of cert-manager's values: Gateway API support only where HTTP-01 goes through a Gateway, and never on the management cluster. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { configWithRegions } from '../../test/helpers.js';
import { Placement } from '../component.js';
import { endpointCertManagerValues } from './cert-manager-values.js';

const ENABLE = { config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true } };

const cases: Array<[string, (e: NonNullable<PlatformConfigInput['endpoint']>) => void, object]> = [
  ['gateway + http01', () => undefined, ENABLE],
  ['gateway + dns01', (e) => void ((e.acme.solver = 'dns01'), (e.acme.dns01 = { provider: 'cloudflare', credentialsSecret: 'cf' })), {}],
  ['ingress + http01', (e) => void (e.kind = 'ingress'), {}],
];

describe('endpointCertManagerValues', () => {
  it.each(cases)('%s', (_name, mutate, inRegions) => {
    const c = configWithRegions(1, (input) => {
      input.endpoint = { domain: 'example.org', kind: 'gateway', className: 'eg', acme: { email: 'ops@example.org' } };
      delete input.routing;
      mutate(input.endpoint);
    });
    for (const t of Placement.regions(c)) expect(endpointCertManagerValues(c, t), t.cluster).toEqual(inRegions);
    // cert-manager crash-loops with enableGatewayAPI where the Gateway API CRDs are missing.
    for (const t of Placement.management(c)) expect(endpointCertManagerValues(c, t)).toEqual({});
  });

  it('is empty without an endpoint', () => {
    const c = configWithRegions(1, (input) => void (delete input.endpoint, delete input.routing));
    for (const t of Placement.everywhere(c)) expect(endpointCertManagerValues(c, t)).toEqual({});
  });

  it('lands in the synthesized cert-manager values of the region clusters, not of the management cluster', () => {
    const c = configWithRegions(1, (input) => {
      input.endpoint = { domain: 'example.org', kind: 'gateway', className: 'eg', acme: { email: 'ops@example.org', solver: 'http01' } };
      delete input.routing;
    });
    const files = renderDist(c);
    const values = (cluster: string) => parse(files.get(`values/${cluster}/cert-manager.yaml`)!);
    expect(values(c.regions[0]!.cluster).config).toEqual(ENABLE.config);
    expect(values(c.managementCluster.name).config).toBeUndefined();
  });
});
