import { aws_ec2 as ec2, aws_logs as logs, type RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

const VPC_CIDR = '10.40.0.0/16';

export interface NetworkProps {
  readonly availabilityZones: string[];
  /** With none, the private subnets are isolated (AWS APIs through the endpoints only), with no public subnets. */
  readonly natGateways: number;
  /** Flow logs of all traffic into a log group kept this many days; none when absent. */
  readonly flowLogRetentionDays?: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The VPC: private subnets in every AZ for MSK, the Lambdas, Glue, EMR Serverless and MWAA; NAT for the
 * AWS APIs without an endpoint; an S3 gateway endpoint and interface endpoints for the APIs the data path
 * calls on every batch (Glue catalog, MSK control plane, STS, KMS, CloudWatch Logs); flow logs.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  private readonly privateSubnetType: ec2.SubnetType;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const egress = props.natGateways > 0;
    this.privateSubnetType = egress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    const flowLogs =
      props.flowLogRetentionDays === undefined
        ? undefined
        : new logs.LogGroup(this, 'FlowLogs', {
            retention: props.flowLogRetentionDays,
            removalPolicy: props.removalPolicy,
          });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      availabilityZones: props.availabilityZones,
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        ...(egress ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        { name: 'private', subnetType: this.privateSubnetType, cidrMask: 20 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      ...(flowLogs && {
        flowLogs: {
          all: {
            destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
            trafficType: ec2.FlowLogTrafficType.ALL,
          },
        },
      }),
    });
    if (!flowLogs) {
      acknowledge(
        this.vpc,
        'AwsSolutions-VPC7',
        'Only in an environment whose AWS emulator has no flow logs (hybrid, services.flowLogs); every AWS environment logs all traffic.',
      );
    }
    acknowledge(
      this.vpc,
      'CloudFormation-Validate::W3010',
      'AZ names come from the environment config so that synth needs no AZ lookup (offline, no credentials).',
    );
    const endpoints = {
      Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
      Kafka: ec2.InterfaceVpcEndpointAwsService.KAFKA,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    };
    for (const [name, service] of Object.entries(endpoints)) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, { service, privateDnsEnabled: true, open: false });
      endpoint.connections.allowFrom(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC');
    }
  }

  get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: this.privateSubnetType };
  }
}
