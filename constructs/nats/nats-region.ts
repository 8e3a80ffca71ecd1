import { Construct } from 'constructs';
import { Labels, natsRegionNames, SecretNames } from '../../regions/names.js';
import { regionOf, type ComponentProps } from '../component.js';
import { HelmValuesFile, SecretRequirement } from '../output.js';
import { GatewayCertificate } from './gateway-certificate.js';
import { natsValues } from './nats-values.js';

/**
 * One region's NATS cluster: the chart values, the gateway Certificate (with TLS) and the
 * Secrets it needs. `scope` is the region's `clusters/<cluster>/nats` folder.
 */
export class NatsRegion extends Construct {
  public readonly values: HelmValuesFile;
  public readonly names: ReturnType<typeof natsRegionNames>;

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const c = props.config;
    const region = regionOf(props, 'nats');
    const ns = props.namespace;
    this.names = natsRegionNames(c, region);
    const labels = { [Labels.partOf]: c.platform, [Labels.component]: 'nats', [Labels.region]: region.name };

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
      new GatewayCertificate(scope, 'gateway-certificate', {
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
