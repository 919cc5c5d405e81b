"""Fault knobs: set from the command line, changed at run time through `/_sim/faults`."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class OpFaults(BaseModel):
    """Overrides for one operation; unset fields fall back to the service-wide knob."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    timeout_rate: float | None = Field(default=None, ge=0, le=1)
    garble_rate: float | None = Field(default=None, ge=0, le=1)


class FaultConfig(BaseModel):
    """Service-wide knobs. Rates are probabilities per request."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_scale: float = Field(
        default=1.0, ge=0, description="multiplies every sampled latency; 0 = instant"
    )
    error_rate: float = Field(
        default=0.0, ge=0, le=1, description="answer with the product's 'system busy' error"
    )
    timeout_rate: float = Field(
        default=0.0, ge=0, le=1, description="hang for hang_ms before answering an error"
    )
    hang_ms: int = Field(default=30_000, ge=0, le=600_000)
    garble_rate: float = Field(default=0.0, ge=0, le=1, description="cut the response body in half")
    pool_size: int | None = Field(
        default=None, ge=1, le=10_000, description="concurrent work; None = unbounded"
    )
    pool_timeout_ms: int = Field(default=1_000, ge=0, le=600_000, description="queue wait before refusing")
    contention: float = Field(
        default=0.5, ge=0, le=10, description="service time grows by this x (in flight / pool)"
    )
    writes_frozen: bool = Field(default=False, description="refuse writes now, as in a nightly settlement")
    settlement_window: bool = Field(default=True, description="refuse writes 23:30-00:30 Shanghai time")
    ops: dict[str, OpFaults] = Field(default_factory=dict)

    def for_op(self, op: str, knob: str) -> float:
        override = self.ops.get(op)
        value = getattr(override, knob, None) if override else None
        return float(value if value is not None else getattr(self, knob))


@dataclass(frozen=True, slots=True)
class Latency:
    """Lognormal service time: a median and a spread (sigma of the underlying normal)."""

    median_ms: float
    sigma: float = 0.4

    def sample(self, rng: random.Random) -> float:
        return self.median_ms * math.exp(rng.gauss(0.0, self.sigma))
