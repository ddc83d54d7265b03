import subprocess
import sys


def test_import_cuekit_stays_light():
    code = ("import sys, cuekit, cuekit.session, cuekit.cli, cuekit.cueset, cuekit.media; "
            "heavy = [m for m in ('streamlit', 'ai_edge_litert', 'mediapipe', 'tensorflow', 'jax') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "cuekit", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("cuekit ")
