"""The engine's public names, and its independence from Django."""

import ast
import subprocess
import sys
from pathlib import Path

import langganan.analytics as analytics

PACKAGE = Path(analytics.__file__).parent


def test_the_documented_names_are_importable_from_the_package():
    for name in (
        "summarize",
        "rfm_scores",
        "BetaGeo",
        "ParetoNBD",
        "GammaGamma",
        "customer_lifetime_value",
        "purchase_rhythm",
        "usual_order",
        "association_rules",
    ):
        assert hasattr(analytics, name), name


def test_no_module_of_the_engine_imports_django():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "django" for n in names), path


def test_the_engine_runs_in_a_process_without_django_loaded():
    code = (
        "import sys, pandas as pd; import langganan.analytics as a; "
        "s = a.summarize(pd.DataFrame({'customer_id': [1, 1], 'occurred_at': "
        "pd.to_datetime(['2025-01-01', '2025-01-05']), 'total': [1.0, 2.0]})); "
        "assert 'django' not in sys.modules; print(int(s['frequency'].iloc[0]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
