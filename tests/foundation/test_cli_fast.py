"""`flowgate flows validate` and `flowgate --version` take the fast path: no Flask, no
SQLAlchemy, no app; `flowgate --help` shows Flowgate's options, not Flask's -A/--app."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("flask", "sqlalchemy", "alembic", "werkzeug", "app.runtime", "app.models", "app.web")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWGATE_", "FLASK_"))}
    env.update(
        FLOWGATE_ENV="production",  # no secrets at all: building the app would fail
        FLOWGATE_INSTANCE_PATH=str(tmp_path / "none"),
        FLOWGATE_FLOWS_DIR=str(ROOT / "flows"),
        FLOWGATE_SCHEMAS_DIR=str(ROOT / "schemas"),
    )
    return env


def _probe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `app.cli.main(args)` as the console script does; print the heavy modules loaded."""
    code = (
        "import sys\n"
        "from app.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "else:\n"
        "    code = 0\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        f"or m.startswith({HEAVY!r}))\n"
        "print('HEAVY', heavy, 'EXIT', code)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )


def test_flows_validate_imports_no_flask_sqlalchemy_or_app(tmp_path: Path) -> None:
    flow = ROOT / "flows" / "lead_capture.json"
    copy = tmp_path / "lead.json"
    copy.write_text(flow.read_text())
    done = _probe(tmp_path, "flows", "validate", str(copy))
    assert "HEAVY [] EXIT 0" in done.stdout, done.stdout + done.stderr
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in done.stderr


def test_flows_validate_fast_path_reports_errors_with_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "7.3", "screens": []}')
    done = _probe(tmp_path, "flows", "validate", "--format", "json", str(bad))
    assert "HEAVY [] EXIT 1" in done.stdout
    assert '"code": "MIN_ITEMS_REQUIRED"' in done.stdout


def test_version_is_flowgate_s(tmp_path: Path) -> None:
    done = _probe(tmp_path, "--version")
    assert done.stdout.startswith(f"flowgate {version('flowgate')}\n")
    assert "Flask" not in done.stdout and "HEAVY [] EXIT 0" in done.stdout


def test_help_shows_no_flask_app_options_and_every_command_still_runs(tmp_path: Path) -> None:
    done = _probe(tmp_path, "--help")
    assert "EXIT 0" in done.stdout and done.stderr == ""
    assert "--app" not in done.stdout and "-A," not in done.stdout
    assert "--env-file" not in done.stdout
    assert "Show Flowgate's version" in done.stdout
    for name in ("run", "routes", "shell", "flows", "keys", "db", "worker", "export"):
        assert f"\n  {name} " in done.stdout, name
    flows = _probe(tmp_path, "flows", "--help")
    for name in ("validate", "list", "push", "publish", "status", "preview"):
        assert f"\n  {name} " in flows.stdout, name


def test_the_console_script_is_app_cli_main() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'flowgate = "app.cli:main"' in text


def test_meta_commands_listed_in_flows_help_are_the_real_ones() -> None:
    import click

    from app.cli.flows import META_COMMANDS, flows_group

    ctx = click.Context(flows_group)
    for name, (_, help_text) in META_COMMANDS.items():
        command = flows_group.get_command(ctx, name)
        assert command is not None and command.name == name
        assert click.Command(name, help=help_text).get_short_help_str(80) == (
            command.get_short_help_str(80)
        )
