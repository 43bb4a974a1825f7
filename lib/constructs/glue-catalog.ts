import { aws_glue as glue, type RemovalPolicy, Stack, type aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DatasetDefinition } from '../../schemas';
import { PROJECTION_START, rawTableInput } from '../../schemas/glue';
import type { TableFormat } from '../config/environments';
import { QUARANTINE_CURATED_PREFIX, QUARANTINE_SINK_PREFIX, rawTableName } from '../config/lake';

export interface GlueCatalogProps {
  readonly databaseName: string;
  readonly datasets: readonly DatasetDefinition[];
  readonly raw: s3.IBucket;
  readonly curated: s3.IBucket;
  readonly quarantine: s3.IBucket;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Iceberg: curated_<dataset> and quarantine_curated_<dataset> are Iceberg tables the raw_to_curated job
   * creates (with their metadata), so they are not declared here. @default 'delta'
   */
  readonly tableFormat?: TableFormat;
}

/**
 * The Glue database and the tables of every zone, derived from the dataset registry:
 * - raw_<dataset>: Parquet, Hive-partitioned by event_date/event_hour with partition projection, so Athena
 *   sees new hours without crawlers or partition registration;
 * - curated_<dataset> and quarantine_curated_<dataset>: Delta tables (location only; Delta keeps the schema),
 *   or, in an Iceberg environment, Iceberg tables of the same names that the curated job creates;
 * - quarantine_sink_<dataset>: the sink's JSON lines (one object per rejected record with its reason).
 * Gold tables are tables the gold job registers itself (their names live with the Spark code).
 */
export class GlueCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly rawTables: Record<string, glue.CfnTable> = {};

  constructor(scope: Construct, id: string, props: GlueCatalogProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: props.databaseName,
        description: 'Streaming lakehouse: raw, curated, quarantine.',
      },
    });
    this.database.applyRemovalPolicy(props.removalPolicy);

    const table = (name: string, tableInput: glue.CfnTable.TableInputProperty): glue.CfnTable => {
      const t = new glue.CfnTable(this, name, {
        catalogId: account,
        databaseName: props.databaseName,
        tableInput: { name, tableType: 'EXTERNAL_TABLE', ...tableInput },
      });
      t.addResourceDependency(this.database);
      t.applyRemovalPolicy(props.removalPolicy);
      return t;
    };
    const delta = (name: string, location: string, description: string) =>
      table(name, {
        description,
        parameters: { EXTERNAL: 'TRUE', table_type: 'DELTA', 'spark.sql.sources.provider': 'delta' },
        storageDescriptor: { location },
      });

    for (const def of props.datasets) {
      const { name: rawName, ...rawInput } = rawTableInput(
        def,
        rawTableName(def.name),
        props.raw.s3UrlForObject(def.name),
      );
      this.rawTables[def.name] = table(rawName, rawInput);
      if (props.tableFormat !== 'iceberg') {
        delta(
          `curated_${def.name}`,
          props.curated.s3UrlForObject(def.name),
          `${def.title} records, one row per ${def.idField} (Delta).`,
        );
        delta(
          `quarantine_curated_${def.name}`,
          props.quarantine.s3UrlForObject(`${QUARANTINE_CURATED_PREFIX}/${def.name}`),
          `${def.title} records the curated job rejected, with the reason (Delta).`,
        );
      }
      table(`quarantine_sink_${def.name}`, {
        description: `${def.title} messages the sink could not accept, with the reason (JSON lines).`,
        partitionKeys: [{ name: 'kafka_date', type: 'string', comment: 'UTC date of the Kafka record.' }],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'json',
          'projection.enabled': 'true',
          'projection.kafka_date.type': 'date',
          'projection.kafka_date.format': 'yyyy-MM-dd',
          'projection.kafka_date.range': `${PROJECTION_START},NOW`,
        },
        storageDescriptor: {
          location: props.quarantine.s3UrlForObject(`${QUARANTINE_SINK_PREFIX}/${def.name}`),
          columns: [{ name: 'line', type: 'string', comment: 'One quarantined message as JSON.' }],
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' },
        },
      });
    }
  }
}
