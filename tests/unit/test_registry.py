"""The plugin boundary: what a broken, invalid or duplicate plugin does to the rest."""

import sys

import pytest
from plugin_fixtures import (
    BROKEN_IMPORT,
    DUPLICATE_METHOD,
    INTERRUPTING,
    INVALID_METHOD,
    LENIENT_CONFIG,
    MISNAMED_ARGUMENT,
    MISSPELT_HOOK,
    NOISY_AND_EXITING,
    NOISY_HOOK,
    RAISING_HOOK,
    make_distribution,
)

from interpbench.errors import PluginError, UnknownName

BUILTIN_METHODS = {
    "acdc",
    "eap",
    "eap-ig",
    "eap-ig-activations",
    "clean-corrupted",
    "exact",
    "ifr",
    "node-ablation",
    "edge-sp",
    "node-sp",
    "edge-pruning",
    "random",
}


@pytest.fixture
def installed(tmp_path, monkeypatch, fresh_registry):
    """Install fake distributions by putting them on sys.path."""

    def install(dist, module, source):
        make_distribution(tmp_path / dist, dist, module, source)
        monkeypatch.syspath_prepend(str(tmp_path / dist))
        monkeypatch.delitem(sys.modules, module, raising=False)

    monkeypatch.delenv("INTERPBENCH_PLUGINS", raising=False)
    return install


def test_builtins_are_plugins_of_the_interpbench_distribution(fresh_registry):
    methods = fresh_registry.methods()
    assert {m.name for m in methods} >= BUILTIN_METHODS
    assert {m.plugin for m in methods if m.name in BUILTIN_METHODS} == {"interpbench"}
    assert {"tracr"} <= {l.name for l in fresh_registry.loaders()}
    assert "3" in {c.name for c in fresh_registry.cases()}
    assert fresh_registry.problems() == []


def test_broken_import_is_named_and_the_rest_still_loads(installed, capsys):
    installed("broken-plugin", "broken_plugin_mod", BROKEN_IMPORT)
    from interpbench import registry

    assert {m.name for m in registry.methods()} >= BUILTIN_METHODS
    [problem] = registry.problems()
    assert "'broken-plugin'" in problem and "ModuleNotFoundError" in problem
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken-plugin" in err[0]
    # `interpbench plugins` lists it too, with the reason, instead of leaving it out
    (broken,) = [p for p in registry.plugins() if p.name == "broken-plugin"]
    assert broken.methods == [] and "ModuleNotFoundError" in broken.problems[0]
    assert all(not p.problems for p in registry.plugins() if p.name == "interpbench")


def test_invalid_registration_is_refused_by_name(installed):
    installed("bad-method-plugin", "bad_method_mod", INVALID_METHOD)
    from interpbench import registry

    names = {m.name for m in registry.methods()}
    assert "bad method!" not in names and names >= BUILTIN_METHODS
    [problem] = registry.problems()
    assert "'bad-method-plugin'" in problem and "invalid method" in problem


def test_duplicate_name_keeps_the_first_and_says_who(installed):
    installed("impostor", "impostor_mod", DUPLICATE_METHOD)
    from interpbench import registry

    assert registry.get_method("acdc").plugin == "interpbench"
    [problem] = registry.problems()
    assert "'impostor'" in problem and "already provided by 'interpbench'" in problem


def test_strict_mode_raises(installed, monkeypatch):
    installed("broken-plugin", "broken_plugin_mod", BROKEN_IMPORT)
    monkeypatch.setenv("INTERPBENCH_STRICT_PLUGINS", "1")
    from interpbench import registry

    with pytest.raises(PluginError, match="broken-plugin"):
        registry.methods()


def test_allowlist_empty_means_builtins_only(installed, monkeypatch):
    installed("broken-plugin", "broken_plugin_mod", BROKEN_IMPORT)
    monkeypatch.setenv("INTERPBENCH_PLUGINS", "")
    from interpbench import registry

    assert registry.problems() == []
    assert [p.name for p in registry.plugins()] == ["interpbench"]


def test_allowlist_names_distributions(installed, monkeypatch):
    installed("broken-plugin", "broken_plugin_mod", BROKEN_IMPORT)
    installed("impostor", "impostor_mod", DUPLICATE_METHOD)
    monkeypatch.setenv("INTERPBENCH_PLUGINS", "Broken_Plugin")
    from interpbench import registry

    [problem] = registry.problems()
    assert "broken-plugin" in problem


def test_unknown_names_suggest_close_matches(fresh_registry):
    with pytest.raises(UnknownName, match="did you mean acdc"):
        fresh_registry.get_method("acdcc")


def test_loading_is_idempotent(fresh_registry):
    fresh_registry.methods()
    before = dict(fresh_registry.current().items["methods"])
    fresh_registry.current().load()
    assert fresh_registry.current().items["methods"] == before


@pytest.mark.parametrize(
    "source, says",
    [
        (MISNAMED_ARGUMENT, "reg"),  # pluggy's PluginValidationError, once a traceback in every command
        (MISSPELT_HOOK, "register_method"),  # accepted silently before check_pending
        (LENIENT_CONFIG, "must forbid unknown fields"),
        (NOISY_AND_EXITING, "SystemExit"),
        (INTERRUPTING, "KeyboardInterrupt"),
        (RAISING_HOOK, "the hook itself fails"),  # raised inside register_methods, not at import
    ],
)
def test_a_faulty_plugin_is_named_in_one_line_and_the_rest_loads(installed, capsys, source, says):
    installed("faulty-plugin", "faulty_plugin_mod", source)
    from interpbench import registry

    assert {m.name for m in registry.methods()} >= BUILTIN_METHODS
    assert {"never", "lenient"}.isdisjoint(m.name for m in registry.methods())
    [problem] = registry.problems()
    assert "'faulty-plugin'" in problem and says in problem
    captured = capsys.readouterr()
    assert captured.out == ""  # what a plugin prints goes to stderr, never into --json output
    assert len([line for line in captured.err.splitlines() if "warning" in line]) == 1


def test_what_a_plugin_prints_in_its_hook_stays_out_of_stdout(installed, capsys):
    installed("noisy-plugin", "noisy_plugin_mod", NOISY_HOOK)
    from interpbench import registry

    assert "noisy" in {m.name for m in registry.methods()}
    captured = capsys.readouterr()
    assert captured.out == "" and "registering!" in captured.err


def test_the_builtins_list_matches_pyproject():
    import tomllib
    from conftest import REPO

    from interpbench.registry import BUILTIN_PLUGINS

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["interpbench"]
    assert declared == BUILTIN_PLUGINS


def test_a_source_checkout_without_an_install_still_has_the_builtins(fresh_registry, monkeypatch):
    monkeypatch.setattr(fresh_registry, "_entry_points", lambda: [])
    assert {m.name for m in fresh_registry.methods()} >= BUILTIN_METHODS
    assert {p.name for p in fresh_registry.plugins()} == {"interpbench"}
    assert fresh_registry.problems() == []


def test_a_multi_line_description_or_a_name_registered_twice_is_said_plainly(fresh_registry):
    from pydantic import BaseModel

    from interpbench import hookimpl

    class Config(BaseModel):
        model_config = {"extra": "forbid"}

    class Sloppy:
        @hookimpl
        def register_methods(self, register):
            register(name="two-lines", description="First line.\nSecond line.", level="edge", config=Config, run=None)
            register(name="twice", description="Once.", level="edge", config=Config, run=lambda t, c: {})
            register(name="twice", description="Twice.", level="edge", config=Config, run=lambda t, c: {})

    fresh_registry.add_plugin(Sloppy(), name="sloppy")
    names = {m.name for m in fresh_registry.methods()}
    assert "two-lines" not in names and "twice" in names
    one_line, twice = fresh_registry.problems()
    assert "description must be one line" in one_line
    assert "registered method 'twice' twice" in twice


def test_an_empty_vocabulary_is_refused(fresh_registry):
    from interpbench import hookimpl

    class Empty:
        @hookimpl
        def register_cases(self, register):
            register(
                name="empty-vocab", description="No tokens.", vocab=set(), max_seq_len=4, program=None, categorical=True
            )

    fresh_registry.add_plugin(Empty(), name="empty")
    assert "empty-vocab" not in {c.name for c in fresh_registry.cases()}
    assert "vocab" in fresh_registry.problems()[0]
