"""The `flowgate` group imports a command's module only when that command is used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from app.cli import COMMANDS, cli, load_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_lazy_entry_is_the_real_command_with_its_help(name: str) -> None:
    target, help_text = COMMANDS[name]
    command = load_command(target)
    assert command.name == name
    stand_in = click.Command(name, help=help_text)
    for limit in (30, 45, 80, 200):  # the listed help is the command's own at every width
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_help_lists_every_command_without_importing_them_or_building_the_app(
    tmp_path: Path,
) -> None:
    # Production without any secret: building the app would fail, listing must not.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWGATE_", "FLASK_"))}
    env.update(FLOWGATE_ENV="production", FLOWGATE_INSTANCE_PATH=str(tmp_path / "none"))
    probe = (
        "import sys\n"
        "from app.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='flowgate')\n"
        "except SystemExit as exit:\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith(('app.cli.', 'app.runtime')))\n"
        "    loaded.remove('app.cli.group')  # the group itself, not a command module\n"
        "    print('LOADED', loaded, 'EXIT', exit.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no traceback from a failed app build
    assert "LOADED [] EXIT 0" in done.stdout
    for name in [*COMMANDS, "run", "routes", "shell"]:
        assert f"\n  {name} " in done.stdout, name


def test_flask_and_lazy_commands_resolve() -> None:
    ctx = click.Context(cli)
    assert cli.get_command(ctx, "run") is not None and cli.get_command(ctx, "routes") is not None
    assert cli.get_command(ctx, "export") is load_command(COMMANDS["export"][0])


def test_routes_lists_the_app_routes(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(["routes"])
    assert result.exit_code == 0, result.output
    assert "/healthz" in result.output and "/api/v1/openapi.json" in result.output
