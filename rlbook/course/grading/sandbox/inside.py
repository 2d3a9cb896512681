"""The first thing that runs inside the sandbox, before the kernel.

Run as ``python -I -S inside.py SETTINGS CONNECTION_FILE``: it applies the
resource limits (after bubblewrap made the user namespace, so that the
process count is this sandbox's alone), copies the working files into the
scratch folder and the cache seed into the home folder, and replaces itself
with the IPython kernel. Standard library only.
"""

import json
import os
import resource
import shutil
import sys


def main(settings, connection_file):
    settings = json.loads(settings)
    for name, value in settings["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    files = settings.get("files")
    if files:
        for part, target in (("home", settings["home"]), ("work", settings["work"])):
            source = os.path.join(files, part)
            if os.path.isdir(source):
                shutil.copytree(source, target, dirs_exist_ok=True)
    os.makedirs(settings["work"], exist_ok=True)
    os.chdir(settings["work"])
    python = settings["python"]
    # History in memory: a student's disk-filling loop must not break the kernel.
    os.execv(python, [python, "-m", "ipykernel_launcher", "-f", connection_file,
                      "--HistoryManager.hist_file=:memory:"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
