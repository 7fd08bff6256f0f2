"""docs/contract.md "Command line": the command names, `tokens issue` printing the token alone."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.contract.wire import post_endpoint, seal

COMMANDS = [
    ["init"],
    ["keys", "generate"],
    ["keys", "public"],
    ["flows", "validate"],
    ["flows", "list"],
    ["schemas", "generate"],
    ["db", "upgrade"],
    ["webhooks", "add"],
    ["webhooks", "list"],
    ["worker"],
    ["export"],
    ["tokens", "issue"],
    ["simulate"],
    ["run"],
    ["inbox", "reprocess"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_exists(runner, command) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_tokens_issue_prints_the_token_alone_and_it_works(  # type: ignore[no-untyped-def]
    runner, client, private_key: rsa.RSAPrivateKey
) -> None:
    result = runner.invoke(
        ["tokens", "issue", "--flow", "appointment", "--wa-id", "447700900777", "--ttl", "600"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0] == lines[0].strip() and " " not in lines[0]
    token = lines[0]
    sealed = seal(
        private_key.public_key(), {"version": "3.0", "action": "INIT", "flow_token": token}
    )
    res = post_endpoint(client, "appointment", sealed.body)
    assert res.status_code == 200
    assert sealed.open(res.get_data())["screen"] == "APPOINTMENT"


def test_tokens_issue_without_ttl(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(["tokens", "issue", "--flow", "lead_capture", "--wa-id", "447700900778"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1


def test_tokens_issue_unknown_flow_fails_without_token(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(["tokens", "issue", "--flow", "nope", "--wa-id", "447700900779"])
    assert result.exit_code != 0
    assert result.stdout.strip() == "" or "Error" in result.stdout


def test_webhooks_add_and_list(runner, client) -> None:  # type: ignore[no-untyped-def]
    added = runner.invoke(["webhooks", "add", "http://127.0.0.1:9/hook"])
    assert added.exit_code == 0, added.output
    assert "whsec_" in added.stdout
    listed = runner.invoke(["webhooks", "list"])
    assert listed.exit_code == 0
    assert "http://127.0.0.1:9/hook" in listed.stdout
    assert "whsec_" not in listed.stdout


def test_flows_list_names_the_flows(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(["flows", "list"])
    assert result.exit_code == 0
    assert "lead_capture" in result.stdout and "appointment" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["webhooks", "add", "http://10.0.0.1/x"],  # refused by the SSRF guard, never contacted
        ["webhooks", "add", "not a url"],
        ["export", "--since", "bad"],
        ["export", "--status", "x"],
        ["tokens", "issue", "--flow", "lead_capture", "--wa-id", "447700900001", "--ttl", "0"],
        ["tokens", "issue", "--flow", "lead_capture", "--wa-id", "abc"],
        ["schemas", "generate", "nope"],
    ],
    ids=" ".join,
)
def test_bad_cli_input_is_a_clean_error(runner, args) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Error" in result.output and "Traceback" not in result.output
    assert "whsec_" not in result.output and "fg1." not in result.stdout
