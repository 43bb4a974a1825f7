import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';

/** Small S3 helpers shared by the raw-zone watcher, the lake inventory, the summary and the tests. */

export interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

export async function listObjects(s3: S3Client, bucket: string, prefix = ''): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) objects.push({ key: o.Key, etag: o.ETag ?? '', size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return object.Body.transformToByteArray();
}

/** Reads the named columns of a Parquet object into row objects (hyparquet, pure JavaScript). */
export async function readParquetRows(
  s3: S3Client,
  bucket: string,
  key: string,
  columns?: readonly string[],
): Promise<Record<string, unknown>[]> {
  const bytes = await getBytes(s3, bucket, key);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return parquetReadObjects({ file, ...(columns ? { columns: [...columns] } : {}) });
}
