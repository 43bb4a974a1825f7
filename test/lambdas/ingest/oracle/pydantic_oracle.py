"""The replaced service's contract, judged by pydantic itself: the seed's two models, validated the way
FastAPI ran them (the body parsed with `json.loads`, then the model validated in lax Python mode with the
error locations prefixed by "body"). Reads JSON lines `{"model": ..., "body": "<raw text>"}` on stdin and
writes one JSON line per input: `{"ok": true, "record": {...}}` with datetimes as ISO-8601 UTC with
microseconds, or `{"ok": false, "errors": [{"loc": [...], "type": ...}]}`."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timezone

from pydantic import BaseModel, ValidationError


class FinancialTransaction(BaseModel):
    transaction_id: str
    timestamp: datetime
    account_id: str
    amount: float
    currency: str
    transaction_type: str
    merchant_id: str | None = None
    category: str | None = None


class InsuranceClaim(BaseModel):
    claim_id: str
    timestamp: datetime
    policy_number: str
    claim_amount: float
    claim_type: str
    claim_status: str
    customer_id: str
    incident_date: datetime


MODELS = {"FinancialTransaction": FinancialTransaction, "InsuranceClaim": InsuranceClaim}


def canonical(value):
    """Offset-less datetimes mean UTC (the API's rule); every datetime becomes `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    if isinstance(value, float) and not math.isfinite(value):
        return {"non_finite": repr(value)}
    return value


def judge(model: type[BaseModel], raw: str) -> dict:
    if raw == "":
        return {"ok": False, "errors": [{"loc": ["body"], "type": "missing"}]}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as e:
        return {"ok": False, "errors": [{"loc": ["body", e.pos], "type": "json_invalid"}]}
    if body is None:
        return {"ok": False, "errors": [{"loc": ["body"], "type": "missing"}]}
    try:
        record = model.model_validate(body, from_attributes=True)
    except ValidationError as e:
        return {"ok": False, "errors": [{"loc": ["body", *e_["loc"]], "type": e_["type"]} for e_ in e.errors()]}
    except OverflowError:
        # A datetime beyond year 9999 after the offset is applied cannot even be represented.
        return {"ok": False, "errors": [{"loc": ["body"], "type": "overflow"}]}
    try:
        dumped = {k: canonical(v) for k, v in record.model_dump().items()}
    except OverflowError:
        return {"ok": True, "record": None, "unrepresentable_in_utc": True}
    return {"ok": True, "record": dumped}


def main() -> None:
    for line in sys.stdin:
        case = json.loads(line)
        print(json.dumps(judge(MODELS[case["model"]], case["body"])), flush=False)


if __name__ == "__main__":
    main()
