"""The wheel and the sdist carry every file the package reads at run time: derived from the
files under generator/ (anything that is not Python), not from a list kept by hand."""

from __future__ import annotations

import re
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


@pytest.fixture
def broken_install(monkeypatch, tmp_path):
    """An installation that lacks its resources: every package's files are an empty folder."""
    from generator import resources
    from generator.render import engine
    from generator.runtime import decide
    from generator.schema import load_schema

    monkeypatch.setattr(resources, "_files", lambda package: tmp_path)
    for cached in (engine.html_environment, engine.text_environment, engine.templates_digest,
                   decide._schema_validator, load_schema):
        cached.cache_clear()
    yield
    for cached in (engine.html_environment, engine.text_environment, engine.templates_digest,
                   decide._schema_validator, load_schema):
        cached.cache_clear()


def test_a_missing_resource_is_a_packaging_error_naming_it(broken_install, tmp_path):
    from generator.bundle.errors import BundleError, PackagingError
    from generator.runtime import Bundle

    with pytest.raises(PackagingError, match="generator/bundle/data.schema.json") as caught:
        Bundle({"schema_version": 1})
    assert not isinstance(caught.value, BundleError)  # never reported as a bad bundle


def test_the_command_line_says_the_installation_is_broken(broken_install, cli, root, tmp_path):
    result = cli(["build", "--root", str(root), "--out", str(tmp_path / "site")])
    assert result.exit_code == 2, result.output
    assert re.search(r"the installation is broken: the installed package lacks generator/[a-z/]+", result.output)
    assert "Traceback" not in result.output
