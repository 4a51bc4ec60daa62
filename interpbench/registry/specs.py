"""What a plugin passes to ``register(...)``: validated specs holding the callables.

The ``*Info`` schemas in ``interpbench.schemas`` are the JSON-able views of these.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interpbench.schemas import CaseInfo, LoaderInfo, MethodInfo, MetricInfo, StructureInfo, Value

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    name: str
    description: str
    plugin: str = ""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(f"{name!r} is not a valid name (letters, digits, - _ .)")
        return name

    @field_validator("description")
    @classmethod
    def _one_line(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("description must not be empty")
        if "\n" in text.strip() or "\r" in text.strip():
            raise ValueError("description must be one line (listings show it in a table cell)")
        return text.strip()


class CaseSpec(Spec):
    """A tracr case: a RASP program with its vocabulary and data conventions.

    Args:
        vocab: input tokens (without BOS and PAD).
        max_seq_len: sequence length *including* BOS, as InterpBench counts it.
        program: zero-argument callable building the RASP program.
        categorical: whether the output is categorical (False: numerical).
        causal: compile with causal attention: each position sees only earlier ones. Set it
            False for a program that reads later positions (a whole-sequence count, a sort).
        trivial: too simple to evaluate meaningfully (a memorised map).
        sampler: ``sampler(rng: random.Random, n: int, length: int)`` returning n token
            lists, for cases whose uniform samples are too unbalanced.
        reference: ``reference(tokens) -> outputs`` overriding RASP evaluation.
        not_compilable: why tracr cannot compile this case, if it cannot.
    """

    vocab: frozenset[Value] = Field(min_length=1)
    max_seq_len: int = Field(ge=2)
    program: Callable[[], Any] | None
    categorical: bool
    causal: bool = True
    trivial: bool = False
    sampler: Callable[..., list[list[Any]]] | None = None
    reference: Callable[[list[Any]], list[Any]] | None = None
    not_compilable: str | None = None

    def info(self) -> CaseInfo:
        return CaseInfo(
            name=self.name,
            description=self.description,
            vocab=sorted(self.vocab, key=lambda v: (str(type(v)), v)),
            max_seq_len=self.max_seq_len,
            categorical=self.categorical,
            causal=self.causal,
            trivial=self.trivial,
            compilable=self.not_compilable is None and self.program is not None,
            not_compilable_reason=self.not_compilable,
            plugin=self.plugin,
        )


class LoaderSpec(Spec):
    load: Callable[..., Any]
    #: The finest level at which the loader's ground truth is certified: ``qkv`` when which
    #: of a head's q, k and v inputs carries what is known (compiled tracr models), ``head``
    #: when only which heads and MLPs implement the circuit is (SIIT-trained models). The
    #: headline edge metrics are computed at this level.
    granularity: Literal["qkv", "head"] = "head"
    #: The loader options it reads (``model_dir`` from ``--model-dir``, ...); None: any.
    options: tuple[str, ...] | None = None
    #: The cases it has a model for (what ``sweep --cases available`` runs); None: every
    #: compilable case.
    cases: Callable[[], list[str]] | None = None

    def info(self) -> LoaderInfo:
        return LoaderInfo(
            name=self.name, description=self.description, plugin=self.plugin, granularity=self.granularity
        )


class StructureSpec(Spec):
    """A hard-track structure (see ``hookspecs.register_structures``)."""

    roles: tuple[str, ...] = Field(min_length=2)
    layer_offsets: tuple[int, ...]
    follows: Callable[[tuple[bool, ...]], bool]

    @model_validator(mode="after")
    def _consistent(self) -> "StructureSpec":
        if len(self.layer_offsets) != len(self.roles):
            raise ValueError("layer_offsets needs one entry per role")
        if self.layer_offsets[0] != 0 or any(not 0 <= o <= 3 for o in self.layer_offsets):
            raise ValueError("layer_offsets start at 0 (the HL head's own LL head) and stay within 0..3")
        try:
            whole = bool(self.follows((True,) * len(self.roles)))
        except Exception as e:
            raise ValueError(f"follows raised on the whole group: {type(e).__name__}: {e}") from None
        if not whole:
            raise ValueError("follows must be true with every member resampled (the IIT intervention)")
        return self

    @property
    def layer_stride(self) -> int:
        """The LL layer stride its members need: room for the furthest offset before the next HL layer."""
        return max(self.layer_offsets) + 1

    def info(self) -> StructureInfo:
        return StructureInfo(name=self.name, description=self.description, plugin=self.plugin,
                             roles=list(self.roles), layer_offsets=list(self.layer_offsets))  # fmt: skip


class MethodSpec(Spec):
    level: Literal["edge", "node"]
    config: type[BaseModel]
    run: Callable[..., Any]

    @field_validator("config")
    @classmethod
    def _config_forbids_extra(cls, config: type[BaseModel]) -> type[BaseModel]:
        if not (isinstance(config, type) and issubclass(config, BaseModel)):
            raise ValueError("config must be a pydantic model class")
        if config.model_config.get("extra") != "forbid":
            raise ValueError(
                f"config {config.__name__} must forbid unknown fields (model_config = ConfigDict(extra='forbid')), "
                "or a misspelt --set key would be dropped silently"
            )
        try:
            config()
        except Exception as e:  # noqa: BLE001 - any failure means unusable defaults
            raise ValueError(f"config {config.__name__} has no valid defaults: {e}") from e
        return config

    def info(self) -> MethodInfo:
        return MethodInfo(
            name=self.name,
            description=self.description,
            level=self.level,
            config_schema=self.config.model_json_schema(),
            plugin=self.plugin,
        )


class MetricSpec(Spec):
    compute: Callable[..., Any]

    def info(self) -> MetricInfo:
        return MetricInfo(name=self.name, description=self.description, plugin=self.plugin)
