"""The workbook's layout on disk: the part nbgrader's coursedir plays.

Every course tool finds its way around a checkout through these names: the
root is the nearest folder holding the nbgrader configuration beside the
instructor sources; sources are ``solutions/<assignment>/*.ipynb``; student
versions are released into ``notebooks/<assignment>/``.
"""

from pathlib import Path

SOURCE_DIR = "solutions"
RELEASE_DIR = "notebooks"
CONFIG_FILE = "nbgrader_config.py"


def find_root(start=None):
    """The workbook's root: the nearest folder holding nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    raise FileNotFoundError(
        f"no {CONFIG_FILE} with a {SOURCE_DIR}/ folder beside it in {here} or above; "
        "run this from inside the workbook's checkout"
    )


def assignments(root):
    """Assignment ids: the folders of solutions/ that hold a notebook."""
    source = Path(root) / SOURCE_DIR
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
