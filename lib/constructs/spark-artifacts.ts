import * as path from 'node:path';
import { Fn, type aws_s3 as s3, aws_s3_deployment as s3deploy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { openLineageJar, SCRIPT_PREFIXES, SCRIPTS_DIR } from '../config/spark-jobs';
import { acknowledgeBucketDeployment } from '../nag';
import { REPO_ROOT } from './lambda-function';

export interface SparkArtifactsProps {
  /** The bucket the jobs run from: scripts under spark/jobs/, library, schemas and jars beside them. */
  readonly bucket: s3.IBucket;
  /**
   * Folder of the job entry points (every top-level *.py) and of the `lakehouse_spark` library.
   * @default glue-scripts/
   */
  readonly scriptsDir?: string;
  /**
   * Folder of the generated JSON Schemas the jobs validate against.
   * @default schemas/generated/
   */
  readonly schemasDir?: string;
  /**
   * Jars the runtimes do not ship, loaded by every run.
   * @default the openlineage-spark listener resolved by scripts/setup.sh
   */
  readonly jars?: readonly string[];
  /**
   * Upload them at deploy (BucketDeployment). Off only where the AWS emulator cannot run BucketDeployment's
   * provider (hybrid): the URIs are then where the uploads would be, and the local Spark runner runs the
   * scripts from the tree.
   * @default true
   */
  readonly upload?: boolean;
}

const SPARK_LIBRARY = 'lakehouse_spark';

/**
 * What the Spark runtimes run, uploaded into the scripts bucket: the job scripts, the shared library (a
 * zip for --extra-py-files), the schemas and the extra jars. Glue jobs and EMR Serverless read the same
 * objects.
 */
export class SparkArtifacts extends Construct {
  readonly bucket: s3.IBucket;
  /** S3 URI of the library zip (Glue: --extra-py-files; EMR: --py-files). */
  readonly libraryUri: string;
  /** S3 URIs of the extra jars (Glue: --extra-jars; EMR: spark.jars). */
  readonly jarUris: string[];
  /** S3 URI of the schemas folder (the jobs' --schema_uri). */
  readonly schemaUri: string;
  /** The uploads a job definition must wait for (the library is depended on through its URI). */
  readonly deployments: readonly s3deploy.BucketDeployment[];

  constructor(scope: Construct, id: string, props: SparkArtifactsProps) {
    super(scope, id);
    const { bucket } = props;
    const scriptsDir = props.scriptsDir ?? SCRIPTS_DIR;
    this.bucket = bucket;
    const jarFiles = props.jars ?? [openLineageJar()];
    this.jarUris = jarFiles.map((jar) =>
      bucket.s3UrlForObject(`${SCRIPT_PREFIXES.jars}${path.basename(jar)}`),
    );
    this.schemaUri = bucket.s3UrlForObject(SCRIPT_PREFIXES.schemas.slice(0, -1));
    if (props.upload === false) {
      this.libraryUri = bucket.s3UrlForObject(`${SCRIPT_PREFIXES.library}${SPARK_LIBRARY}.zip`);
      this.deployments = [];
      return;
    }
    const jobs = new s3deploy.BucketDeployment(this, 'Jobs', {
      sources: [s3deploy.Source.asset(scriptsDir, { exclude: ['*', '!*.py'] })],
      destinationBucket: bucket,
      destinationKeyPrefix: SCRIPT_PREFIXES.jobs,
    });
    // Python imports a zip whose root holds the package folder; extract: false keeps the asset's zip.
    const library = new s3deploy.BucketDeployment(this, 'Library', {
      sources: [
        s3deploy.Source.asset(scriptsDir, {
          exclude: ['*', `!${SPARK_LIBRARY}`, `!${SPARK_LIBRARY}/**`, '**/__pycache__', '**/*.pyc'],
        }),
      ],
      destinationBucket: bucket,
      destinationKeyPrefix: SCRIPT_PREFIXES.library,
      extract: false,
    });
    const schemas = new s3deploy.BucketDeployment(this, 'Schemas', {
      sources: [s3deploy.Source.asset(props.schemasDir ?? path.join(REPO_ROOT, 'schemas/generated'))],
      destinationBucket: bucket,
      destinationKeyPrefix: SCRIPT_PREFIXES.schemas,
    });
    const jars = new s3deploy.BucketDeployment(this, 'Jars', {
      sources: jarFiles.map((jar) =>
        s3deploy.Source.asset(path.dirname(jar), { exclude: ['*', `!${path.basename(jar)}`] }),
      ),
      destinationBucket: bucket,
      destinationKeyPrefix: SCRIPT_PREFIXES.jars,
    });
    acknowledgeBucketDeployment(jobs);
    this.libraryUri = bucket.s3UrlForObject(`${SCRIPT_PREFIXES.library}${Fn.select(0, library.objectKeys)}`);
    this.deployments = [jobs, schemas, jars];
  }

  /** S3 URI of a job script (glue-scripts/<script>.py). */
  scriptUri(script: string): string {
    return this.bucket.s3UrlForObject(`${SCRIPT_PREFIXES.jobs}${script}.py`);
  }
}
