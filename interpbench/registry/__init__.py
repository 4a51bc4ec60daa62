"""The plugin registry: loads the ``interpbench`` entry points once and answers queries.

>>> from interpbench import registry
>>> [m.name for m in registry.methods()]          # doctest: +SKIP
>>> registry.get_case("3").max_seq_len            # doctest: +SKIP

Environment switches:

- ``INTERPBENCH_PLUGINS``: comma list of distribution names to load besides the
  built-ins; set and empty means built-ins only. Unset loads everything installed.
- ``INTERPBENCH_STRICT_PLUGINS=1``: a plugin problem raises ``PluginError`` instead
  of a one-line warning (for plugin authors and CI).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterable

import pluggy
from pydantic import ValidationError

from interpbench import hookspecs
from interpbench.errors import PluginError, UnknownName, UserInterrupt, user_interrupts_apart
from interpbench.registry.specs import CaseSpec, LoaderSpec, MethodSpec, MetricSpec, Spec, StructureSpec
from interpbench.schemas import CaseInfo, LoaderInfo, MethodInfo, MetricInfo, PluginInfo, StructureInfo

GROUP = "interpbench"
BUILTIN_DISTRIBUTION = "interpbench"
#: The built-in plugins, as ``pyproject.toml`` declares them (a test keeps the two equal):
#: registered from here when no entry point of the built-in distribution is installed (a
#: source checkout run without ``pip install``), so that the built-ins are never missing.
BUILTIN_PLUGINS = {
    "cases": "interpbench.plugins.cases",
    "loaders": "interpbench.plugins.loaders",
    "methods": "interpbench.plugins.methods",
    "metrics": "interpbench.plugins.metrics",
    "structures": "interpbench.plugins.structures",
}
KINDS: dict[str, type[Spec]] = {
    "cases": CaseSpec,
    "loaders": LoaderSpec,
    "methods": MethodSpec,
    "metrics": MetricSpec,
    "structures": StructureSpec,
}


@dataclass
class _Plugin:
    distribution: str
    version: str | None
    modules: list[str]
    provided: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    problems: list[str] = field(default_factory=list)  # what went wrong with it (then it is partly or not loaded)


class Registry:
    """Holds what the plugins registered. One instance lives in this module."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.items: dict[str, dict[str, Spec]] = {kind: {} for kind in KINDS}
        self.plugins: dict[str, _Plugin] = {}
        self.problems: list[str] = []
        self.loaded = False

    # --- loading -----------------------------------------------------------------------

    def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        allowed = _allowed_distributions()
        found_builtins = False
        with user_interrupts_apart(), contextlib.redirect_stdout(sys.stderr):  # plugin output never reaches --json
            for ep in _entry_points():
                dist = ep.dist.name if ep.dist else "?"
                found_builtins |= dist == BUILTIN_DISTRIBUTION
                if dist != BUILTIN_DISTRIBUTION and allowed is not None and _normalise(dist) not in allowed:
                    continue
                try:
                    module = ep.load()
                except UserInterrupt:
                    raise KeyboardInterrupt from None
                except (Exception, SystemExit, KeyboardInterrupt) as e:  # noqa: BLE001 - a broken plugin must not take us down
                    failed = self.plugins.setdefault(dist, _Plugin(dist, ep.dist.version if ep.dist else None, []))
                    failed.modules.append(ep.value)
                    self._problem(f"plugin {dist!r} ({ep.name} = {ep.value}) failed to import: {_short(e)}", failed)
                    continue
                self.add(module, distribution=dist, version=ep.dist.version if ep.dist else None)
            if not found_builtins:  # a source checkout without an install: the built-ins all the same
                for module_name in BUILTIN_PLUGINS.values():
                    self.add(importlib.import_module(module_name), distribution=BUILTIN_DISTRIBUTION)

    def add(self, module: Any, distribution: str, version: str | None = None) -> None:
        """Register one plugin object (a module or any object with hookimpls)."""
        plugin = self.plugins.setdefault(distribution, _Plugin(distribution, version, []))
        plugin.modules.append(getattr(module, "__name__", type(module).__name__))
        try:
            self.pm.register(module, name=f"{distribution}:{getattr(module, '__name__', id(module))}")
        except (ValueError, pluggy.PluginValidationError) as e:  # a hookimpl the spec does not allow
            self._problem(f"plugin {distribution!r} could not be registered: {_plugin_error(e)}", plugin)
            return
        try:
            self.pm.check_pending()  # a hook no spec declares (a misspelt name) is this plugin's
        except pluggy.PluginValidationError as e:
            self.pm.unregister(module)
            self._problem(f"plugin {distribution!r} could not be registered: {_plugin_error(e)}", plugin)
            return
        others = [p for p in self.pm.get_plugins() if p is not module]
        for kind, spec_type in KINDS.items():
            # through pluggy's relay (ordering, wrappers, tracing), restricted to this plugin
            hook = self.pm.subset_hook_caller(f"register_{kind}", remove_plugins=others)
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    hook(register=self._registrar(kind, spec_type, plugin))
            except UserInterrupt:
                raise KeyboardInterrupt from None
            except (Exception, SystemExit, KeyboardInterrupt) as e:  # noqa: BLE001
                self._problem(f"plugin {distribution!r} failed in register_{kind}: {_short(e)}", plugin)

    def _registrar(self, kind: str, spec_type: type[Spec], plugin: _Plugin) -> Callable[..., None]:
        def register(**fields: Any) -> None:
            label = fields.get("name", "?")
            try:
                spec = spec_type(plugin=plugin.distribution, **fields)
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "input"
                self._problem(
                    f"plugin {plugin.distribution!r} registered an invalid {kind[:-1]} "
                    f"{label!r}: {where}: {first['msg']}",
                    plugin,
                )
                return
            except TypeError as e:
                self._problem(f"plugin {plugin.distribution!r}: invalid {kind[:-1]} {label!r}: {e}", plugin)
                return
            existing = self.items[kind].get(spec.name)
            if existing is not None:
                if existing.plugin == plugin.distribution:
                    self._problem(
                        f"plugin {plugin.distribution!r} registered {kind[:-1]} {spec.name!r} twice; the first stands",
                        plugin,
                    )
                else:
                    self._problem(
                        f"plugin {plugin.distribution!r} registered {kind[:-1]} {spec.name!r}, "
                        f"already provided by {existing.plugin!r}; ignored",
                        plugin,
                    )
                return
            self.items[kind][spec.name] = spec
            plugin.provided[kind].append(spec.name)

        return register

    def _problem(self, message: str, plugin: _Plugin | None = None) -> None:
        self.problems.append(message)
        if plugin is not None:
            plugin.problems.append(message)
        if os.environ.get("INTERPBENCH_STRICT_PLUGINS", "") not in ("", "0"):
            raise PluginError(message)
        print(f"interpbench: warning: {message}", file=sys.stderr)

    # --- queries -----------------------------------------------------------------------

    def get(self, kind: str, name: str) -> Any:
        self.load()
        try:
            return self.items[kind][name]
        except KeyError:
            raise UnknownName(kind[:-1], name, [spec.name for spec in _sorted(self.items[kind])]) from None


def _entry_points() -> Iterable[metadata.EntryPoint]:
    eps = list(metadata.entry_points(group=GROUP))
    # Built-ins first, so that a third-party duplicate is the one refused.
    eps.sort(key=lambda ep: (ep.dist is None or ep.dist.name != BUILTIN_DISTRIBUTION, ep.name))
    seen: set[tuple[str, str]] = set()
    unique = []
    for ep in eps:  # an editable install can expose the same entry point twice
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            unique.append(ep)
    return unique


def _allowed_distributions() -> set[str] | None:
    raw = os.environ.get("INTERPBENCH_PLUGINS")
    if raw is None:
        return None
    return {_normalise(name) for name in raw.split(",") if name.strip()}


def _normalise(name: str) -> str:
    """Distribution names compare like pip compares them: case and -_. insensitive."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def _plugin_error(e: BaseException) -> str:
    """pluggy's validation message, on one line."""
    return " ".join(str(e).split())


_registry = Registry()


def reset() -> Registry:
    """Forget everything loaded (tests use this); the next query loads afresh."""
    global _registry
    _registry = Registry()
    return _registry


def current() -> Registry:
    return _registry


def add_plugin(module: Any, name: str = "local") -> None:
    """Register a plugin object directly, without an entry point (tests, notebooks)."""
    _registry.load()
    _registry.add(module, distribution=name)


def cases() -> list[CaseInfo]:
    _registry.load()
    return [spec.info() for spec in _sorted(_registry.items["cases"])]


def loaders() -> list[LoaderInfo]:
    _registry.load()
    return [spec.info() for spec in _sorted(_registry.items["loaders"])]


def methods() -> list[MethodInfo]:
    _registry.load()
    return [spec.info() for spec in _sorted(_registry.items["methods"])]


def metrics() -> list[MetricInfo]:
    _registry.load()
    return [spec.info() for spec in _sorted(_registry.items["metrics"])]


def structures() -> list[StructureInfo]:
    _registry.load()
    return [spec.info() for spec in _sorted(_registry.items["structures"])]


def plugins() -> list[PluginInfo]:
    _registry.load()
    return [
        PluginInfo(
            name=p.distribution,
            version=p.version,
            module=", ".join(p.modules),
            problems=list(p.problems),
            **p.provided,
        )
        for p in sorted(_registry.plugins.values(), key=lambda p: p.distribution)
    ]


def problems() -> list[str]:
    _registry.load()
    return list(_registry.problems)


def get_case(name: str | int) -> CaseSpec:
    return _registry.get("cases", str(name))


def get_loader(name: str) -> LoaderSpec:
    return _registry.get("loaders", name)


def get_method(name: str) -> MethodSpec:
    return _registry.get("methods", name)


def get_metric(name: str) -> MetricSpec:
    return _registry.get("metrics", name)


def get_structure(name: str) -> StructureSpec:
    return _registry.get("structures", name)


def case_specs() -> list[CaseSpec]:
    _registry.load()
    return _sorted(_registry.items["cases"])


def metric_specs() -> list[MetricSpec]:
    _registry.load()
    return _sorted(_registry.items["metrics"])


def _sorted(items: dict[str, Any]) -> list[Any]:
    # Case names are numbers; sort them numerically, then everything else by name.
    return [items[k] for k in sorted(items, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))]
