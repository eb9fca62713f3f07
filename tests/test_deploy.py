"""The classroom server settings are real Streamlit options, and the Docker recipe's files exist."""

import tomllib
from pathlib import Path

import pytest
from streamlit import config

ROOT = Path(__file__).resolve().parents[1]


def options(path: Path) -> dict[str, object]:
    data = tomllib.loads(path.read_text())
    return {f"{section}.{name}": value for section, table in data.items() for name, value in table.items()}


@pytest.mark.parametrize("path", [ROOT / ".streamlit" / "config.toml", ROOT / "deploy" / "classroom.toml"])
def test_every_setting_is_a_streamlit_option(path):
    known = config._config_options_template  # the options Streamlit defines, with their types
    for key, value in options(path).items():
        assert key in known, f"{path.name}: {key} is not a Streamlit option"
        default = known[key].default_val
        if default is not None:
            assert isinstance(value, type(default)), f"{key} = {value!r} should be a {type(default).__name__}"


def test_classroom_settings_suit_a_shared_server():
    o = options(ROOT / "deploy" / "classroom.toml")
    assert o["server.headless"] is True and o["server.runOnSave"] is False
    assert o["server.fileWatcherType"] == "none"
    assert o["client.showErrorDetails"] == "none"
    assert 0 < o["server.maxUploadSize"] <= 100


def test_dockerfile_copies_files_that_exist():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and not line.startswith("COPY . "):
            assert (ROOT / line.split()[1]).exists(), line
