"""`stackgen secrets`: the env file, and no secret anywhere under generated/."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from stackgen.cli import main
from stackgen.passwords import PasswordHash
from stackgen.render.compose import env_file_variables
from stackgen.secrets import PASSWORD_HASH_SUFFIX, read_env_file
from stackgen.spec import Stack
from tests.conftest import GENERATED


def write(path: Path, *extra: str) -> int:
    return main(["secrets", "--env-file", str(path), *extra])


def files_containing(root: Path, values: list[str]) -> dict[str, list[str]]:
    """Every file under root (dotfiles included) that contains one of the values."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode(errors="replace")
        hits = [value for value in values if value in text]
        if hits:
            found[path.relative_to(root).as_posix()] = hits
    return found


def test_writes_every_variable_with_a_random_value(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert write(path) == 0
    values = read_env_file(path)
    hashes = {name for name in values if name.endswith(PASSWORD_HASH_SUFFIX)}
    passwords = {name.removesuffix("_HASH") for name in hashes}
    assert hashes == {"ADMIN_PASSWORD_HASH"}
    assert set(values) - passwords == set(env_file_variables(stack))
    assert len(set(values.values())) == len(values)
    random = {name: value for name, value in values.items() if name not in hashes}
    assert all(len(value) >= 40 and "$" not in value for value in random.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_password_hash_verifies_the_password_written_beside_it(tmp_path: Path) -> None:
    """The operator signs in to /admin with ADMIN_PASSWORD; the service gets only the
    hash, which the service's own verifier accepts (and a wrong password it refuses)."""
    path = tmp_path / ".env"
    assert write(path) == 0
    values = read_env_file(path)
    # Quoted: compose would otherwise interpolate the `$` separators of the hash.
    assert f"ADMIN_PASSWORD_HASH='{values['ADMIN_PASSWORD_HASH']}'" in path.read_text()
    stored = PasswordHash.parse(values["ADMIN_PASSWORD_HASH"])
    assert stored.matches(values["ADMIN_PASSWORD"])
    assert not stored.matches(values["ADMIN_PASSWORD"] + "x")


def test_add_missing_hashes_an_existing_password(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("ADMIN_PASSWORD=chosen-by-the-operator\n")
    assert write(path, "--add-missing") == 0
    values = read_env_file(path)
    assert values["ADMIN_PASSWORD"] == "chosen-by-the-operator"
    assert PasswordHash.parse(values["ADMIN_PASSWORD_HASH"]).matches("chosen-by-the-operator")


def test_two_runs_give_different_values(tmp_path: Path) -> None:
    # Separate directories: a token file beside an env file would be shared.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert write(tmp_path / "a/.env") == 0 and write(tmp_path / "b/.env") == 0
    a, b = read_env_file(tmp_path / "a/.env"), read_env_file(tmp_path / "b/.env")
    assert set(a.values()).isdisjoint(b.values())


def test_never_overwrites_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".env"
    path.write_text("POSTGRES_PASSWORD=in-use\n")
    assert write(path) == 2
    assert path.read_text() == "POSTGRES_PASSWORD=in-use\n"
    message = capsys.readouterr().err.strip()
    assert "exists; not overwriting" in message and "--add-missing" in message
    assert len(message.splitlines()) == 1


def test_add_missing_keeps_existing_values(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# mine\nPOSTGRES_PASSWORD=in-use\n")
    path.chmod(0o644)
    assert write(path, "--add-missing") == 0
    values = read_env_file(path)
    assert values["POSTGRES_PASSWORD"] == "in-use"
    # Every variable compose reads, and the admin password beside its hash.
    assert set(values) == {*env_file_variables(stack), "ADMIN_PASSWORD"}
    assert path.read_text().startswith("# mine\nPOSTGRES_PASSWORD=in-use\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert write(path, "--add-missing") == 0
    assert path.read_text() == before


TOKEN = "ALERT_WEBHOOK_TOKEN"


def token_file(tmp_path: Path) -> Path:
    """Where compose's Alertmanager mount (../secrets/alertmanager from generated/)
    points, seen from the env file's directory."""
    return tmp_path / "secrets/alertmanager/alert_webhook_token"


def test_the_webhook_token_goes_to_the_agent_and_to_alertmanager(
    stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / ".env"
    assert write(path) == 0
    token = read_env_file(path)[TOKEN]
    assert len(token) >= 40
    assert token_file(tmp_path).read_text() == token
    assert stat.S_IMODE(token_file(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file(tmp_path).parent.stat().st_mode) == 0o700
    # The agent container gets it from the env file through compose.
    assert TOKEN in env_file_variables(stack)


def test_an_existing_token_is_kept_on_either_side(tmp_path: Path) -> None:
    """Re-runs keep both values; a missing side is written from the other one."""
    path = tmp_path / ".env"
    assert write(path) == 0
    token = read_env_file(path)[TOKEN]
    assert write(path, "--add-missing") == 0
    assert read_env_file(path)[TOKEN] == token and token_file(tmp_path).read_text() == token

    token_file(tmp_path).unlink()  # the operator lost the file: rewritten from .env
    assert write(path, "--add-missing") == 0
    assert token_file(tmp_path).read_text() == token

    # An env file from before the webhook: the token comes from the existing file.
    lines = [line for line in path.read_text().splitlines() if not line.startswith(TOKEN)]
    path.write_text("\n".join(lines) + "\n")
    token_file(tmp_path).write_text("token-already-in-alertmanager\n")
    assert write(path, "--add-missing") == 0
    assert read_env_file(path)[TOKEN] == "token-already-in-alertmanager"


def test_a_token_that_differs_between_the_two_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".env"
    assert write(path) == 0
    token_file(tmp_path).write_text("something else")
    before = path.read_text()
    assert write(path, "--add-missing") == 2
    assert "differ" in capsys.readouterr().err
    assert path.read_text() == before
    assert token_file(tmp_path).read_text() == "something else"


def test_the_token_directory_can_be_given(tmp_path: Path) -> None:
    elsewhere = tmp_path / "am"
    assert write(tmp_path / ".env", "--alertmanager-secrets", str(elsewhere)) == 0
    token = read_env_file(tmp_path / ".env")[TOKEN]
    assert (elsewhere / "alert_webhook_token").read_text() == token
    assert not token_file(tmp_path).exists()


def test_missing_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write(tmp_path / "nowhere" / ".env") == 2
    assert "does not exist" in capsys.readouterr().err


def test_no_secret_value_appears_under_generated(tmp_path: Path) -> None:
    """The values `stackgen secrets` produces are nowhere in the committed output."""
    path = tmp_path / ".env"
    assert write(path) == 0
    values = [*read_env_file(path).values(), token_file(tmp_path).read_text()]
    assert files_containing(GENERATED, values) == {}


def test_the_secret_grep_finds_a_planted_value(tmp_path: Path) -> None:
    """The grep above can fail: plant one value in a copy of generated/ (in a dotfile,
    which a careless glob would skip)."""
    path = tmp_path / ".env"
    assert write(path) == 0
    values = list(read_env_file(path).values())
    copy = tmp_path / "generated"
    shutil.copytree(GENERATED, copy)
    example = copy / ".env.example"
    example.write_text(example.read_text().replace("GRAFANA_DB_PASSWORD=", f"X={values[2]}"))
    assert files_containing(copy, values) == {".env.example": [values[2]]}


@pytest.mark.parametrize("which", ["env file", "token file"])
def test_a_dangling_symlink_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    env = tmp_path / ".env"
    link = env if which == "env file" else token_file(tmp_path)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(tmp_path / "gone")
    assert write(env) == 2
    err = capsys.readouterr().err
    assert f"{link} is a symlink to {tmp_path / 'gone'}, which does not exist" in err
    assert "Traceback" not in err
    assert not (tmp_path / "gone").exists()


def test_the_token_files_belong_to_the_user_alertmanager_runs_as(
    stack: Stack, tmp_path: Path
) -> None:
    # The image runs as nobody: a 0600 file of the operator's would be unreadable to it.
    assert stack.compose is not None
    alertmanager = stack.compose.service("alertmanager")
    assert alertmanager is not None and alertmanager.runs_as_uid == 65534
    if os.geteuid() != 0:
        pytest.skip("changing owners needs root (CI and these machines run as root)")
    assert write(tmp_path / ".env") == 0
    token = token_file(tmp_path)
    for path in (token.parent, token):
        assert path.stat().st_uid == 65534, path
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE(token.parent.stat().st_mode) == 0o700
    assert (tmp_path / ".env").stat().st_uid == os.geteuid()


def test_an_operator_who_may_not_change_owners_is_told_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError("not permitted")

    monkeypatch.setattr(os, "chown", refuse)
    assert write(tmp_path / ".env") == 0
    err = capsys.readouterr().err
    assert f"sudo chown -R 65534 {token_file(tmp_path).parent}" in err
