"""The README's promises: two set-up commands, runnable examples, the demos, no torch in the library."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _fenced(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _run(args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, **kwargs)


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    commands = [block.strip() for block in _fenced("bash")]
    assert len(commands) == 2
    assert all(c.startswith("python3.11 -m venv") and "\n" not in c for c in commands)
    demo, tests = commands
    assert "examples/demo.py" in demo and '".[demo]"' in demo
    assert "pytest" in tests and '".[test]"' in tests
    assert tests in (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_readme_python_examples_run():
    blocks = _fenced("python")
    assert len(blocks) == 2
    for block in blocks:
        result = _run([sys.executable, "-c", block])
        assert result.returncode == 0, result.stderr[-3000:]


def test_demos_run_in_quick_mode():
    for script in ("examples/demo.py", "examples/core_digits.py"):
        result = _run([sys.executable, script, "--quick"])
        assert result.returncode == 0, result.stderr[-3000:]
        assert re.search(r"test accuracy: 0\.\d{3}", result.stdout), result.stdout


def test_demo_full_run_reaches_90_percent():
    result = _run([sys.executable, "examples/demo.py"])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    accuracy = float(re.search(r"test accuracy: (0\.\d+)", result.stdout).group(1))
    assert accuracy >= 0.9


_HIDE_TORCH = """
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is hidden for this test")
sys.meta_path.insert(0, _NoTorch())
import snnax_torchlike, snnax_torchlike.snn, snnax_torchlike.interop, snnax_torchlike.snntorch
from snnax_torchlike import nn, optim, functional, spikegen, surrogate, Trainer
import jax.numpy as jnp
spk, mem = nn.Sequential(nn.Linear(4, 3), nn.Leaky(beta=0.9))(jnp.ones((5, 2, 4)))
assert spk.shape == (5, 2, 3)
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules), "torch was imported"
print("ok")
"""


def test_library_imports_and_runs_without_torch():
    result = _run([sys.executable, "-c", _HIDE_TORCH])
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


_OPTIONAL = ("torch", "matplotlib", "tensorboardX", "tensorboard", "sklearn", "IPython", "ipywidgets", "nir",
             "snntorch", "norse", "pandas", "latex2mathml", "snnax_torchlike.interop")  # fmt: skip


def test_import_loads_no_optional_dependency():
    """``import snnax_torchlike`` loads JAX, Equinox, optax and the core; plotting, interop and loggers wait for use."""
    script = f"import sys, snnax_torchlike; print(sorted(m for m in {_OPTIONAL!r} if m in sys.modules))"
    result = _run([sys.executable, "-c", script])
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-3000:]


def test_every_package_of_the_library_is_installed():
    """pyproject's explicit package list names every folder with an ``__init__.py`` (a normal install,
    unlike an editable one, ships only what is listed)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "snnax_torchlike").rglob("__init__.py")}
    found |= {"snnax_torchlike.interop"}
    assert found == listed, f"missing: {sorted(found - listed)}; listed but absent: {sorted(listed - found)}"


def test_no_torch_import_under_the_library():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "snnax_torchlike").rglob("*.py")
        if re.search(r"^\s*(import torch|from torch)\b", path.read_text(), flags=re.M)
    ]
    assert offenders == []


def _imported_modules(path: Path) -> list[str]:
    """Absolute names of the modules a file imports, relative imports resolved."""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    pattern = r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[\w ,]+)"
    for dots, module, imported in re.findall(pattern, path.read_text(), flags=re.M):
        if dots:
            base = package[: len(package) - (len(dots) - 1)]
            source = ".".join(base + ([module] if module else []))
        else:
            source = module
        names.append(source)
        # `from package import name` may import a submodule: count package.name too.
        names += [f"{source}.{name.strip()}" for name in imported.strip("()").split(",") if name.strip()]
    names += re.findall(r"^\s*import\s+([\w.]+)", path.read_text(), flags=re.M)
    return names


def test_core_never_imports_the_facade():
    offenders = [
        (str(path.relative_to(ROOT)), name)
        for path in (ROOT / "snnax_torchlike" / "snn").rglob("*.py")
        for name in _imported_modules(path)
        if name.startswith("snnax_torchlike.") and not name.startswith("snnax_torchlike.snn")
    ]
    assert offenders == []
    # The resolver itself works: the facade does import the core.
    assert "snnax_torchlike.snn" in _imported_modules(ROOT / "snnax_torchlike" / "nn" / "leaky.py")
