"""Code fingerprints change exactly when the code (or a helper, or a constant it uses) changes."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from pipeline.api import Activation
from pipeline.cache.fingerprint import module_fingerprint, object_fingerprint


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A throwaway package ``fpkg`` on sys.path; returns a writer for its modules."""
    root = tmp_path / "fpkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> None:
        (root / f"{name}.py").write_text(textwrap.dedent(source))
        for mod in [m for m in sys.modules if m.startswith("fpkg")]:
            del sys.modules[mod]
        importlib.invalidate_caches()
        module_fingerprint.cache_clear()

    yield write
    for mod in [m for m in sys.modules if m.startswith("fpkg")]:
        del sys.modules[mod]
    module_fingerprint.cache_clear()


def test_module_fingerprint_follows_same_package_imports(package):
    package("helper", "def f():\n    return 1\n")
    package("stage", "from fpkg.helper import f\nimport numpy\n\ndef run():\n    return f()\n")
    first = module_fingerprint("fpkg.stage")
    package("stage", "from fpkg.helper import f\nimport numpy\n\ndef run():\n    return f()\n")
    assert module_fingerprint("fpkg.stage") == first          # same text, same fingerprint
    package("helper", "def f():\n    return 2\n")
    assert module_fingerprint("fpkg.stage") != first          # helper edited


def test_module_fingerprint_follows_relative_imports(package):
    package("helper", "X = 1\n")
    package("stage", "from . import helper\n")
    first = module_fingerprint("fpkg.stage")
    package("helper", "X = 2\n")
    assert module_fingerprint("fpkg.stage") != first


def test_module_fingerprint_ignores_unrelated_modules(package):
    package("other", "Y = 1\n")
    package("stage", "Z = 0\n")
    first = module_fingerprint("fpkg.stage")
    package("other", "Y = 2\n")
    assert module_fingerprint("fpkg.stage") == first


def _load(package, source):
    package("plug", source)
    return importlib.import_module("fpkg.plug")


def test_object_fingerprint_sees_helpers_and_constants(package):
    base = """
    SLOPE = {slope}
    def helper(z):
        return z * SLOPE
    def forward(z):
        return helper(z)
    def derivative(z, a):
        return z * 0 + SLOPE
    def unrelated():
        return {unrelated}
    """
    fp = lambda **kw: object_fingerprint(Activation(*(lambda m: (m.forward, m.derivative))(
        _load(package, base.format(**kw)))))
    first = fp(slope=0.1, unrelated=1)
    assert fp(slope=0.1, unrelated=1) == first
    assert fp(slope=0.1, unrelated=2) == first     # editing an unused function changes nothing
    assert fp(slope=0.2, unrelated=1) != first     # a constant it reads


def test_object_fingerprint_of_class_and_instance(package):
    src = "class Opt:\n    def __init__(self, params):\n        self.params = params\n" \
          "    def step(self, grads, lr):\n        return {body}\n"
    mod = _load(package, src.format(body="None"))
    first = object_fingerprint(mod.Opt)
    mod = _load(package, src.format(body="lr"))
    assert object_fingerprint(mod.Opt) != first


def test_dynamic_lookups_hash_the_whole_module_or_distribution(package):
    # getattr on the module by a computed name: the walk cannot tell which name, so every one counts
    src = "import sys\nK = {k}\nOTHER = {other}\ndef f(z):\n    return z * getattr(sys.modules[__name__], 'K')\n"
    first = object_fingerprint(_load(package, src.format(k=1, other=1)).f)
    assert object_fingerprint(_load(package, src.format(k=1, other=2)).f) != first
    # eval can reach any module of the package: every file is hashed
    package("far", "X = 1\n")
    src = "def f(z):\n    return z * eval('__import__(\"fpkg.far\").far.X')\n"
    first = object_fingerprint(_load(package, src).f)
    package("far", "X = 2\n")
    assert object_fingerprint(_load(package, src).f) != first


def test_instance_state_and_partial_arguments_are_values(package):
    import functools

    import numpy as np

    src = "import numpy as np\nclass Opt:\n    def __init__(self, table):\n        self.table = table\n"
    mod = _load(package, src)
    a = object_fingerprint(mod.Opt(np.array([1.0, 2.0])))
    assert object_fingerprint(mod.Opt(np.array([1.0, 2.0]))) == a
    assert object_fingerprint(mod.Opt(np.array([1.0, 2.5]))) != a
    assert object_fingerprint(mod.Opt({"k": (1, 2)})) != object_fingerprint(mod.Opt({"k": (1, 3)}))
    mod = _load(package, "def f(z, c):\n    return z * c\n")
    assert object_fingerprint(functools.partial(mod.f, c=1.0)) != object_fingerprint(functools.partial(mod.f, c=2.0))


def test_two_lambdas_of_one_module_both_count(package):
    src = ("from pipeline.api import Activation\n\nFORWARD = lambda z: z * {f}  # noqa: E731\n"
           "DERIVATIVE = lambda z, a: z * 0 + {d}  # noqa: E731\nACT = Activation(FORWARD, DERIVATIVE)\n")
    first = object_fingerprint(_load(package, src.format(f=1, d=1)).ACT)
    assert object_fingerprint(_load(package, src.format(f=2, d=1)).ACT) != first
    assert object_fingerprint(_load(package, src.format(f=1, d=2)).ACT) != first
