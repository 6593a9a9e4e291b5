"""Every export module that needs TensorFlow gets it through ``export.tf_extra``: without the
export extra it stops with the install hint, not a bare ModuleNotFoundError."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TF_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras|tf2onnx)\b", re.MULTILINE)
NEEDS_TF = re.compile(r"^\s*from\s+\.tf_extra\s+import", re.MULTILINE)
# Modules that import a TensorFlow user (and so TensorFlow) through the package.
MODULES = sorted(p.stem for p in (REPO / "export").glob("*.py")
                 if NEEDS_TF.search(p.read_text(encoding="utf-8")))


def test_only_tf_extra_imports_tensorflow_keras_or_tf2onnx():
    direct = [p.name for p in (REPO / "export").rglob("*.py")
              if p.name != "tf_extra.py" and TF_IMPORT.search(p.read_text(encoding="utf-8"))]
    assert direct == []
    assert {"onnx_export", "training", "detector_model", "train_chars"} <= set(MODULES)


@pytest.mark.parametrize("module, blocked", [(m, "tensorflow") for m in MODULES]
                         + [("onnx_export", "tf2onnx"), ("training", "keras")])
def test_a_missing_tensorflow_stack_gives_the_install_hint(module, blocked):
    code = (f"import sys; sys.modules[{blocked!r}] = None\n"  # as if not installed
            f"import export.{module}")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ") and blocked in last
    assert 'pip install -e ".[export]"' in last
