"""cuekit: the non-verbal side of recorded video calls.

``import cuekit`` stays light: it imports neither streamlit nor the model runtime (LiteRT).
"""

from .errors import CuekitError, InputError, MediaError

__version__ = "0.1.0"
__all__ = ["CuekitError", "InputError", "MediaError", "__version__"]
