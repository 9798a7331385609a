"""What every envelope is: a test (`matches`), an unwrapping (`unwrap`) into the layers it holds,
and optionally (`FastEnvelope`) a one-pass fast model.

An envelope sees only its own layer: it says what it wraps and with which metadata, or why what it
wraps cannot be a record. `records.decode` loops the registry (`records.envelopes.ENVELOPES`),
adds each layer's name to `Decoded.envelope` and its metadata to `Decoded.meta`, and decodes what
the layer holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from records.models import AsyncInvocationRecord

__all__ = ["Envelope", "FastEnvelope", "FastModel", "Layer", "describe"]


@dataclass(frozen=True, slots=True)
class Layer:
    """One thing an envelope holds.

    `name` is recorded in `Decoded.envelope` (None: no layer of this kind was recognised, as for an
    S3 event notification); `meta` is this layer's metadata (`sns.TopicArn`...), added to the
    transport's. The layer holds either a parsed JSON value (`inner`), JSON text sent as a
    transport's message (`text_of` names the transport: "SNS", "SQS"), or nothing decodable
    (`problem` says why, as a sentence).
    """

    name: str | None
    meta: Mapping[str, Any] = field(default_factory=dict)
    inner: Any = None
    text_of: str | None = None
    problem: str | None = None


class FastModel(BaseModel):
    """A pydantic model that parses and validates an envelope and the record in it in one pass."""

    @property
    def record(self) -> AsyncInvocationRecord:
        raise NotImplementedError


class Envelope:
    """One kind of envelope: subclasses set `name` and implement `matches` and `unwrap`."""

    name: ClassVar[str]

    def matches(self, value: Any) -> bool:
        """Whether a parsed JSON value (not a record itself) is this envelope."""
        raise NotImplementedError

    def unwrap(self, value: Any) -> Iterable[Layer]:
        """The layers this envelope holds (one, or one per record of a Lambda event)."""
        raise NotImplementedError


class FastEnvelope(Envelope):
    """An envelope with a one-pass model, tried on JSON text before it is parsed at all."""

    fast_model: ClassVar[type[FastModel]]
    fast_hint: ClassVar[str]  # appears near the start of every JSON text the model accepts

    def fast_meta(self, model: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
        """`meta` with the layer metadata of a value the fast model accepted added: the same
        metadata `unwrap` gives, from the same function."""
        raise NotImplementedError


def describe(value: Any) -> str:
    """What a JSON value is, for sentences: "null", "a number", "an array"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
