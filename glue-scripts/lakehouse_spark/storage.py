"""Small JSON documents (run summaries) next to the data: S3 via boto3 (which honours AWS_ENDPOINT_URL),
local paths otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse


def write_json(uri: str, doc: dict) -> None:
    body = json.dumps(doc, indent=2, sort_keys=True, default=str).encode()
    u = urlparse(uri)
    if u.scheme in ("s3", "s3a"):
        import boto3

        boto3.client("s3").put_object(Bucket=u.netloc, Key=u.path.lstrip("/"), Body=body)
    else:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).write_bytes(body)


def read_json(uri: str) -> dict | None:
    """The document, or None when there is none yet."""
    u = urlparse(uri)
    if u.scheme in ("s3", "s3a"):
        import boto3

        client = boto3.client("s3")
        try:
            body = client.get_object(Bucket=u.netloc, Key=u.path.lstrip("/"))["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
        return json.loads(body)
    path = Path(uri)
    return json.loads(path.read_text()) if path.exists() else None
