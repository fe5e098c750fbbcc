"""The wheel and the sdist carry every file the package reads at run time: derived from the
files under generator/ (anything that is not Python), not from a list kept by hand."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile

import pytest

from conftest import REPO


def _resources() -> set[str]:
    listed = subprocess.run(["git", "ls-files", "generator"], cwd=REPO, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return {name for name in listed.stdout.split() if not name.endswith(".py")}


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--sdist", "--outdir",
                           str(out), str(REPO)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def test_the_wheel_holds_every_resource(dist):
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_resources() - names)
    assert missing == [], f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"


def test_the_sdist_holds_every_resource(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = sorted(_resources() - names)
    assert missing == [], missing
