"""esriJSON on the wire: error objects inside HTTP 200, feature sets, typed attribute and geometry reads.

Everything here checks shape and nothing more: a wrong shape is `BackendProtocolError`, an esri
error object becomes the error it means. Meaning (codes, keys, dates) is `mapping.py`'s job.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from domain.geo import GeoPoint
from infra.errors import BackendError, BackendProtocolError, BackendServerError, InvalidRequest

BACKEND = "gis"
logger = logging.getLogger("tidegate.backends.gis")


def _bad(message: str) -> BackendProtocolError:
    return BackendProtocolError(BACKEND, message)


@dataclass(frozen=True, slots=True)
class Feature:
    attributes: Mapping[str, Any]
    geometry: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class FeaturePage:
    features: tuple[Feature, ...]
    exceeded: bool  # exceededTransferLimit: more features past this page


def decode(status: int, content: bytes) -> dict[str, Any]:
    """The JSON object of one answer; raises for HTTP failures and esri error objects alike."""
    if not 200 <= status < 300:
        raise BackendServerError(BACKEND, f"HTTP {status}", vendor_code=str(status))
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"answer is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad(f"expected a JSON object, got {type(body).__name__}")
    if "error" in body:
        raise error_from(body["error"])
    return body


def error_from(error: Any) -> BackendError:
    """ArcGIS's `{"error": {...}}`: 400 is our own bad query, everything else is the server's."""
    if not isinstance(error, dict) or isinstance(error.get("code"), bool):
        return _bad(f"malformed error object: {error!r:.200}")
    code = error.get("code")
    if not isinstance(code, int):
        return _bad(f"error object without a numeric code: {error!r:.200}")
    message = str(error.get("message") or "")
    raw_details = error.get("details")
    details = [str(d) for d in raw_details] if isinstance(raw_details, list) else []
    text = f"esri error {code}: {message}" + (f" ({'; '.join(details)})" if details else "")
    if code == 400:
        # We built a query the server refused: a bug on our side worth a log line, not an outage.
        logger.warning(
            "GIS refused our query", extra={"backend": BACKEND, "esri_code": code, "details": details}
        )
        return InvalidRequest(BACKEND, text, vendor_code=str(code))
    # 498/499 (token) are the operator's to fix; 500/503 and the rest are the server failing.
    return BackendServerError(BACKEND, text, vendor_code=str(code))


DUPLICATE_KEY = 1019  # applyEdits: a unique index (OUTAGE_ID) already holds the value


def edit_result(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The one result of a one-feature `applyEdits` (`addResults` / `updateResults`)."""
    results = body.get(key)
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        raise _bad(f"applyEdits answer has no single {key!r} entry")
    if not isinstance(results[0].get("success"), bool):
        raise _bad(f"applyEdits {key} entry without a boolean 'success'")
    return results[0]


def feature_page(body: Mapping[str, Any]) -> FeaturePage:
    features = body.get("features")
    if not isinstance(features, list):
        raise _bad("query answer has no 'features' array")
    out: list[Feature] = []
    for item in features:
        if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict):
            raise _bad(f"feature without an 'attributes' object: {item!r:.200}")
        geometry = item.get("geometry")
        if geometry is not None and not isinstance(geometry, dict):
            raise _bad(f"feature geometry is not an object: {geometry!r:.200}")
        out.append(Feature(item["attributes"], geometry))
    exceeded = body.get("exceededTransferLimit", False)
    if not isinstance(exceeded, bool):
        raise _bad(f"exceededTransferLimit is not a boolean: {exceeded!r:.50}")
    return FeaturePage(tuple(out), exceeded)


class Attrs:
    """Typed reads of one feature's attributes; a missing or mistyped attribute is a protocol error."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def _get(self, name: str) -> Any:
        if name not in self.raw:
            raise _bad(f"attribute {name} missing from feature")
        return self.raw[name]

    def _wrong(self, name: str, want: str) -> BackendProtocolError:
        return _bad(f"attribute {name}: expected {want}, got {self.raw[name]!r:.80}")

    def opt_text(self, name: str) -> str | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(name, "text")
        return value.strip() or None

    def text(self, name: str) -> str:
        value = self.opt_text(name)
        if value is None:
            raise self._wrong(name, "non-empty text")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(name, "an integer")
        return value

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise self._wrong(name, "an integer")
        return value

    def opt_float(self, name: str) -> float | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise self._wrong(name, "a number")
        return float(value)

    def code(self, name: str) -> str | None:
        """A coded value as the code tables key it: `1` -> "1"; None stays None (-> UNKNOWN)."""
        value = self.opt_int(name)
        return None if value is None else str(value)


def _coord(raw: Any) -> GeoPoint:
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        raise _bad(f"coordinate is not [x, y]: {raw!r:.80}")
    x, y = raw[0], raw[1]
    for v in (x, y):
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise _bad(f"coordinate is not a pair of finite numbers: {raw!r:.80}")
    return GeoPoint(float(x), float(y))


def _parts(geometry: Mapping[str, Any] | None, key: str) -> list[tuple[GeoPoint, ...]]:
    if geometry is None or geometry.get(key) is None:
        return []  # an empty geometry is data, not a protocol failure
    parts = geometry[key]
    if not isinstance(parts, list) or not all(isinstance(p, list) for p in parts):
        raise _bad(f"geometry {key!r} is not an array of arrays")
    return [tuple(_coord(c) for c in part) for part in parts if part]


def point(geometry: Mapping[str, Any] | None) -> GeoPoint | None:
    """An esri point; None when the feature has no location (`null` or NaN x, as ArcGIS sends)."""
    if geometry is None:
        return None
    x, y = geometry.get("x"), geometry.get("y")
    if x is None or y is None or x == "NaN" or y == "NaN":
        return None
    return _coord([x, y])


def path(geometry: Mapping[str, Any] | None) -> tuple[GeoPoint, ...]:
    """A polyline's vertices; several paths join end to end (mains are drawn as one in practice)."""
    out: list[GeoPoint] = []
    for part in _parts(geometry, "paths"):
        out.extend(part[1:] if out and part[0] == out[-1] else part)
    return tuple(out)


def rings(geometry: Mapping[str, Any] | None) -> tuple[tuple[GeoPoint, ...], ...]:
    """A polygon's rings, each closed (esriJSON closes them; we make sure before `in_rings`)."""
    return tuple(r if r[0] == r[-1] else (*r, r[0]) for r in _parts(geometry, "rings"))
