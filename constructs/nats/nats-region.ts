import type { Construct } from 'constructs';
import { Construct as Base } from 'constructs';
import { Labels, natsRegionNames, SecretNames } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { PlatformNamespace } from '../namespace.js';
import { HelmValuesFile, SecretRequirement, type OutputChart } from '../output.js';
import { GatewayCertificate } from './gateway-certificate.js';
import { natsValues } from './nats-values.js';

export interface NatsRegionProps {
  readonly config: PlatformConfig;
  readonly region: Region;
  /** Chart whose folder receives the plain manifests (`clusters/<cluster>/nats`). */
  readonly manifests: OutputChart;
}

/**
 * One region's NATS cluster: the chart values, the Namespace, the gateway Certificate (with
 * TLS) and the Secrets it needs.
 */
export class NatsRegion extends Base {
  public readonly values: HelmValuesFile;
  public readonly names: ReturnType<typeof natsRegionNames>;

  constructor(scope: Construct, id: string, props: NatsRegionProps) {
    super(scope, id);
    const { config: c, region } = props;
    const ns = c.nats.namespace;
    this.names = natsRegionNames(c, region);
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'nats', [Labels.region]: region.name };

    new PlatformNamespace(props.manifests, 'namespace', { name: ns, enforce: 'restricted', labels });
    this.values = new HelmValuesFile(this, 'values', { cluster: region.cluster, chart: 'nats', values: natsValues(c, region) });

    new SecretRequirement(this, 'client-auth', {
      cluster: region.cluster,
      namespace: ns,
      name: SecretNames.natsClientAuth,
      keys: ['user', 'password'],
      usedBy: 'nats servers (client authorization), nats-box, chat backend',
    });
    new SecretRequirement(this, 'gateway-auth', {
      cluster: region.cluster,
      namespace: ns,
      name: SecretNames.natsGatewayAuth,
      keys: ['user', 'password'],
      usedBy: 'nats servers (gateway authorization, incoming and outgoing)',
      sameAcross: 'every region',
    });
    if (c.nats.gateway.tls.enabled) {
      const tls = c.nats.gateway.tls;
      new GatewayCertificate(props.manifests, 'gateway-certificate', {
        namespace: ns,
        secretName: SecretNames.natsGatewayTls,
        gatewayHost: this.names.gatewayHost,
        issuer: tls.issuer!,
        duration: tls.duration,
        renewBefore: tls.renewBefore,
        labels,
      });
      new SecretRequirement(this, 'gateway-tls', {
        cluster: region.cluster,
        namespace: ns,
        name: SecretNames.natsGatewayTls,
        keys: ['tls.crt', 'tls.key', 'ca.crt'],
        usedBy: 'nats servers (mutual gateway TLS)',
        createdBy: `cert-manager (${tls.issuer!.kind} ${tls.issuer!.name})`,
      });
    }
  }
}
