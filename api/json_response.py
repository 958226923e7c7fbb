"""JSON responses rendered with orjson.

Starlette renders with the standard library; a bulk DRS answer of 1,000 objects or a GraphQL
page of 100 datasets with their files is dominated by that encoding (BENCHMARKS.md). Aware
datetimes render as RFC 3339, UTC as ``Z`` (``2026-11-30T09:00:00.123456Z``), the form DRS
documents give their times in.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)
