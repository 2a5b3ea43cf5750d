"""Folders shipped inside the installed package: the guide and the gettext catalogs."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_folder(package: str) -> Path:
    """The folder of a data package, whether installed from a wheel or editable."""
    folder = files(package)
    # Vyraj reads these folders with pathlib, so they must be real folders (not inside a zip).
    if not isinstance(folder, Path):
        raise RuntimeError(f"{package} is not installed as a folder: {folder!r}")
    return folder
