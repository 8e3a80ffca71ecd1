import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist } from '../../charts/render.js';
import { loadConfigFile } from '../platform-config.js';
import { natsRegionNames, SecretNames } from '../../regions/names.js';
import { configWithRegions, DEFAULT_CONFIG_PATH } from '../../test/helpers.js';
import { gatewayMergeBlock } from './gateway.js';
import { natsValues } from './nats-values.js';

type Values = Record<string, any>;

describe('NATS values, default config (reference setup)', () => {
  const config = loadConfigFile(DEFAULT_CONFIG_PATH);
  const mn = config.regions.find((r) => r.name === 'mn')!;
  const values = natsValues(config, mn) as Values;

  it('sets cluster and gateway name together, from platform and region', () => {
    expect(values.config.cluster.merge.name).toBe('astring-mn');
    expect(values.config.gateway.merge.name).toBe('astring-mn');
    expect(values.config.serverNamePrefix).toBe('astring-mn-');
    expect(values.fullnameOverride).toBe('nats');
  });

  it('uses gateway port 7522 and the peers\' headless Service names, like the reference', () => {
    expect(values.config.gateway.port).toBe(7522);
    expect(values.config.gateway.merge.gateways).toEqual([
      { name: 'astring-mn', urls: ['nats://nats-headless.nats.astring-mn.internal:7522'] },
      { name: 'astring-fsn1', urls: ['nats://nats-headless.nats.astring-fsn1.internal:7522'] },
    ]);
    expect(values.config.gateway.merge.advertise).toBeUndefined();
  });

  it('requires credentials on the gateway port, not only on the client port', () => {
    expect(values.config.gateway.merge.authorization).toEqual({ user: '<< $GATEWAY_USER >>', password: '<< $GATEWAY_PASSWORD >>', timeout: 2 });
    expect(values.config.merge.authorization).toEqual({ user: '<< $NATS_USER >>', password: '<< $NATS_PASSWORD >>' });
    expect(values.container.env.GATEWAY_PASSWORD).toEqual({ valueFrom: { secretKeyRef: { name: SecretNames.natsGatewayAuth, key: 'password' } } });
    expect(values.container.env.NATS_PASSWORD).toEqual({ valueFrom: { secretKeyRef: { name: SecretNames.natsClientAuth, key: 'password' } } });
    expect(values.config.gateway.merge.reject_unknown_cluster).toBe(true);
  });

  it('rolls pods on config change and pins what the chart would default', () => {
    expect(values.podTemplate.configChecksumAnnotation).toBe(true);
    expect(values.global.image.pullPolicy).toBe('IfNotPresent');
    expect(values.container.image).toEqual({ repository: 'nats', tag: '2.14.2-alpine', pullPolicy: 'IfNotPresent' });
    expect(values.container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(values.container.merge.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(values.podTemplate.merge.spec.securityContext).toMatchObject({ runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(values.config.monitor).toEqual({ enabled: true, port: 8222 });
  });

  it('turns on monitor, Prometheus exporter and nats-box; no reloader without certificates to rotate', () => {
    expect(values.promExporter.enabled).toBe(true);
    // Config changes roll the pods; a reloader SIGHUP on a gateway change makes nats-server log credentials.
    expect(values.reloader).toEqual({ enabled: false });
    expect(values.natsBox.enabled).toBe(true);
    expect(values.config.jetstream).toEqual({ enabled: false });
    expect(values.extraResources).toEqual([]);
  });

  it('gives every region the identical gateway list', () => {
    const lists = config.regions.map((r) => JSON.stringify((natsValues(config, r) as Values).config.gateway.merge.gateways));
    expect(new Set(lists).size).toBe(1);
  });
});

describe('LoadBalancer exposure', () => {
  const config = configWithRegions(3, (c) => {
    c.nats!.gateway = {
      port: 7222,
      exposure: 'loadBalancer',
      loadBalancer: { hostnameSuffix: 'gw.example.com', sourceRanges: ['203.0.113.0/24'], annotations: { 'service.beta.kubernetes.io/x': 'y' } },
    };
  });
  const r2 = config.regions[1]!;
  const values = natsValues(config, r2) as Values;

  it('adds a gateway-only LoadBalancer Service and advertises its hostname', () => {
    const [svc] = values.extraResources;
    expect(values.extraResources).toHaveLength(1);
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([{ name: 'gateway', port: 7222, targetPort: 'gateway', protocol: 'TCP' }]);
    expect(svc.spec.loadBalancerSourceRanges).toEqual(['203.0.113.0/24']);
    expect(svc.metadata.annotations['external-dns.alpha.kubernetes.io/hostname']).toBe('nats-gateway.r2.gw.example.com');
    expect(values.config.gateway.merge.advertise).toBe('nats-gateway.r2.gw.example.com:7222');
  });

  it('points every peer URL at the peers\' LoadBalancer hostnames', () => {
    expect(values.config.gateway.merge.gateways.map((g: { urls: string[] }) => g.urls[0])).toEqual([
      'nats://nats-gateway.r1.gw.example.com:7222',
      'nats://nats-gateway.r2.gw.example.com:7222',
      'nats://nats-gateway.r3.gw.example.com:7222',
    ]);
  });

  it('falls back to the cross-cluster Service name without a hostname suffix', () => {
    const c = configWithRegions(2, (x) => void (x.nats!.gateway = { exposure: 'loadBalancer' }));
    expect(natsRegionNames(c, c.regions[0]!).gatewayHost).toBe('nats-gateway.nats.astring-r1.internal');
  });
});

describe('gateway TLS', () => {
  const config = configWithRegions(2, (c) => {
    c.nats!.gateway = { tls: { enabled: true, issuer: { kind: 'ClusterIssuer', name: 'platform-ca' } } };
  });
  const files = renderDist(config);

  it('issues a mutual-TLS Certificate whose SAN is the hostname peers dial', () => {
    const cert = parse(files.get('clusters/astring-r1/nats/certificate-nats-gateway-tls.yaml')!) as Values;
    expect(cert.spec.dnsNames).toEqual(['nats-headless.nats.astring-r1.internal']);
    expect(cert.spec.usages).toEqual(expect.arrayContaining(['server auth', 'client auth']));
    expect(cert.spec.secretName).toBe(SecretNames.natsGatewayTls);
    expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'platform-ca' });
  });

  it('runs the reloader on the certificates only, never on nats.conf', () => {
    const values = parse(files.get('values/astring-r1/nats.yaml')!) as Values;
    expect(values.reloader.enabled).toBe(true);
    expect(values.reloader.natsVolumeMountPrefixes).toEqual(['/etc/nats-certs/gateway']);
    const args = values.reloader.patch.find((p: { path: string }) => p.path === '/args').value as string[];
    expect(args.filter((a) => a !== '-config')).toEqual([
      '-pid',
      '/var/run/nats/nats.pid',
      '/etc/nats-certs/gateway/tls.crt',
      '/etc/nats-certs/gateway/tls.key',
      '/etc/nats-certs/gateway/ca.crt',
    ]);
    expect(JSON.stringify(values.reloader)).not.toMatch(/nats\.conf|nats-config/);
  });

  it('mounts the key pair and trusts the shared CA', () => {
    const values = parse(files.get('values/astring-r1/nats.yaml')!) as Values;
    expect(values.config.gateway.tls).toEqual({
      enabled: true,
      secretName: 'nats-gateway-tls',
      merge: { ca_file: '/etc/nats-certs/gateway/ca.crt', timeout: 3 },
    });
  });

  it('relies on cert-manager, which every cluster gets with server-side apply', () => {
    const set = parse(files.get('argocd/applicationset-astring-cert-manager.yaml')!) as Values;
    expect(set.spec.generators[0].list.elements.map((e: { cluster: string }) => e.cluster)).toEqual(['astring-mgmt', 'astring-r1', 'astring-r2']);
    expect(set.spec.template.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    expect(files.has('values/astring-r2/cert-manager.yaml')).toBe(true);
  });

  it('emits no gateway Certificate without TLS', () => {
    const plain = renderDist(configWithRegions(2));
    expect([...plain.keys()].filter((p) => p.includes('/nats/certificate'))).toEqual([]);
    expect(parse(plain.get('values/astring-r1/nats.yaml')!).config.gateway.tls).toBeUndefined();
  });
});

describe('JetStream', () => {
  it('gets a file store on the platform storage class and a memory store with 3 regions', () => {
    const config = configWithRegions(3, (c) => void (c.nats!.jetstream = { enabled: true, fileStoreSize: '20Gi' }));
    const values = natsValues(config, config.regions[0]!) as Values;
    expect(values.config.jetstream).toEqual({
      enabled: true,
      fileStore: { enabled: true, dir: '/data', pvc: { enabled: true, size: '20Gi', storageClassName: 'openebs-hostpath' } },
      memoryStore: { enabled: true, maxSize: '1Gi' },
    });
  });
});

describe('gateway block', () => {
  it('is the same object the values carry (one source for Helm and the lab)', () => {
    const config = configWithRegions(4);
    for (const r of config.regions) {
      expect((natsValues(config, r) as Values).config.gateway.merge).toEqual(gatewayMergeBlock(config, r));
    }
  });
});
