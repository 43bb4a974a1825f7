import * as fs from 'node:fs';
import * as path from 'node:path';
import { type aws_s3 as s3, aws_s3_deployment as s3deploy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeBucketDeployment } from '../nag';
import { REPO_ROOT } from './lambda-function';

const REQUIREMENTS = 'requirements.txt';
const DAG_CONFIG_FILE = 'lakehouse_dag_config.json';

export interface DagDeploymentProps {
  readonly bucket: s3.IBucket;
  /** What the DAGs read everything environment-specific from (dags/lakehouse_pipeline.py), as JSON. */
  readonly config: Record<string, unknown>;
  /**
   * The folder of the DAGs (and of the requirements.txt MWAA installs).
   * @default dags/
   */
  readonly dagsDir?: string;
  /**
   * Upload at deploy (BucketDeployment); off only where the AWS emulator cannot run its provider (hybrid).
   * @default true
   */
  readonly upload?: boolean;
}

/** The DAGs and their configuration file under dags/ of the bucket, and requirements.txt at its root. */
export class DagDeployment extends Construct {
  /** The uploads the MWAA environment must wait for. */
  readonly deployments: readonly s3deploy.BucketDeployment[];
  /** The requirements' key, when the DAGs folder has one. */
  readonly requirementsPath?: string;

  constructor(scope: Construct, id: string, props: DagDeploymentProps) {
    super(scope, id);
    const dagsDir = props.dagsDir ?? path.join(REPO_ROOT, 'dags');
    this.deployments = [];
    if (props.upload === false) return;
    const dags = new s3deploy.BucketDeployment(this, 'Dags', {
      sources: [
        s3deploy.Source.asset(dagsDir, { exclude: [REQUIREMENTS, '**/__pycache__', '**/*.pyc'] }),
        s3deploy.Source.jsonData(DAG_CONFIG_FILE, props.config),
      ],
      destinationBucket: props.bucket,
      destinationKeyPrefix: 'dags/',
    });
    acknowledgeBucketDeployment(dags);
    this.deployments = [dags];
    if (fs.existsSync(path.join(dagsDir, REQUIREMENTS))) {
      this.deployments = [
        dags,
        new s3deploy.BucketDeployment(this, 'Requirements', {
          sources: [s3deploy.Source.asset(dagsDir, { exclude: ['*', `!${REQUIREMENTS}`] })],
          destinationBucket: props.bucket,
          // At the bucket root: pruning would delete the DAGs deployed under dags/.
          prune: false,
        }),
      ];
      this.requirementsPath = REQUIREMENTS;
    }
  }
}
