"""``mamlviz doctor``: what this machine has for the lecture, on one screen.

A newcomer's checklist: which torch build trains on which device, where Omniglot
(Lake et al. 2015) was found or how to get it, which shipped checkpoints are
there, and whether the browser tests can drive a Chromium. Each line is ``ok``,
``--`` (optional and missing: says how to get it) or ``!!`` (essential and
broken). The exit status is 0 when every essential is there, else 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's package, what tests/browser drives by default
INSTALL_BROWSER = (
    "on Debian/Ubuntu: sudo apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji; "
    "elsewhere: playwright install chromium"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    essential: bool
    detail: str

    @property
    def mark(self) -> str:
        return "ok" if self.ok else ("!!" if self.essential else "--")


def _torch() -> list[Check]:
    try:
        import torch

        from .device import describe, pick_device
    except Exception as exc:  # a broken or missing torch is exactly what to report
        return [Check("torch", False, True, f"cannot import torch: {exc}. "
                      f"Install it: pip install -e . (see README, Set-up)")]
    if torch.version.cuda:
        build = f"CUDA {torch.version.cuda} build"
    elif getattr(torch.version, "hip", None):
        build = f"ROCm {torch.version.hip} build"
    else:
        build = "CPU-only build"
    try:
        device = describe(pick_device())
    except Exception as exc:  # MAMLVIZ_DEVICE naming a device that is not here
        return [Check("torch", False, True, f"{torch.__version__}, {build}; {exc}")]
    return [Check("torch", True, True, f"{torch.__version__}, {build}; trains on {device}")]


def _packages() -> list[Check]:
    # Versions from the installed metadata: importing streamlit here would break the rule
    # that mamlviz never imports it (and costs a second).
    from importlib import metadata

    found, broken = [], []
    for name in ("streamlit", "plotly", "numpy", "pillow"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            broken.append(name)
    if broken:
        return [Check("app packages", False, True,
                      f"missing {', '.join(broken)}: pip install -e .")]
    return [Check("app packages", True, True, ", ".join(found))]


def _omniglot() -> list[Check]:
    from .data import omniglot_source as src
    from .data.omniglot import cache_file
    from .errors import DataError

    env = os.environ.get(src.SOURCE_ENV, "").strip()
    shared = ROOT.parent / "shared" / "omniglot"
    try:
        found = src.resolve_source(download=False, progress=False)
        for s in found.sets():
            if found.origin == "download":  # what the app would use (md5, else content)
                src.verify_cached(s.set_name, s.path)
            src.scan_set(s)
    except DataError as exc:
        if env:  # the user chose this place and it does not hold the data: the app fails too
            return [Check("Omniglot", False, True, f"{src.SOURCE_ENV}={env}: {exc}")]
        hint = (f"; the tests also read {shared}" if shared.is_dir() else "")
        return [Check(
            "Omniglot", False, False,
            f"not downloaded yet (about {src.download_mb()} MB): press 'Download Omniglot' in "
            f"the app's Omniglot chapter, or run `python -m mamlviz data omniglot`; offline, "
            f"point {src.SOURCE_ENV} at a folder with images_background.zip and "
            f"images_evaluation.zip{hint}")]
    where = f"{found.location} ({'cache' if found.origin == 'download' else found.origin})"
    prepared = "prepared" if cache_file(found).is_file() else "prepared on first use"
    return [Check("Omniglot", True, False, f"{where}, {prepared}")]


def _checkpoints() -> list[Check]:
    folder = Path(os.environ.get("MAMLVIZ_CHECKPOINTS") or ROOT / "assets" / "checkpoints")
    files = sorted(folder.glob("*.pt")) if folder.is_dir() else []
    if not files:
        return [Check("checkpoints", False, True,
                      f"none in {folder}: the lecture's trained models are missing "
                      f"(a complete clone has them; MAMLVIZ_CHECKPOINTS points elsewhere)")]
    by_problem = {p: sum(f.name.startswith(p + "_") for f in files)
                  for p in ("sinusoid", "omniglot")}
    return [Check("checkpoints", True, True,
                  f"{by_problem['sinusoid']} sinusoid, {by_problem['omniglot']} Omniglot "
                  f"in {folder}")]


def _playwright_chromium() -> str | None:
    """Playwright's own Chromium (``playwright install chromium``), if it is installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def _chromium() -> list[Check]:
    chosen = os.environ.get("MAMLVIZ_CHROMIUM") or CHROMIUM
    browser = chosen if (Path(chosen).exists() or shutil.which(chosen)) else None
    browser = browser or _playwright_chromium()
    if browser is None:
        return [Check("Chromium", False, False,
                      f"none (browser tests skip). Install it {INSTALL_BROWSER}")]
    fonts = ""
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                             text=True, check=False).stdout
        fonts = ("; Chinese fonts present" if out.strip() else
                 "; no Chinese fonts: Chinese pages show empty boxes (fonts-noto-cjk)")
    return [Check("Chromium", True, False, f"{browser}{fonts}")]


def checks() -> list[Check]:
    return _torch() + _packages() + _omniglot() + _checkpoints() + _chromium()


def main(json_out: bool = False) -> int:
    results = checks()
    healthy = all(c.ok or not c.essential for c in results)
    if json_out:
        import json

        print(json.dumps({"ok": healthy, "checks": [asdict(c) for c in results]}))
    else:
        print(f"mamlviz doctor (Python {sys.version.split()[0]}, {ROOT})")
        for c in results:
            print(f"  {c.mark}  {c.name:<13} {c.detail}")
        print("All essentials are there." if healthy else
              "Something essential is missing (!!): see the line above.")
    return 0 if healthy else 1
