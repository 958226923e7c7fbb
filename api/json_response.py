"""JSON responses rendered with orjson.

Starlette renders with the standard library; a bulk DRS answer of 1,000 objects or a GraphQL
page of 100 datasets with their files is dominated by that encoding (BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
