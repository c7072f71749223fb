"""Settings fail loudly, naming the variable."""

import pytest

from cati.config import Settings, SettingsError


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'cati.db'}"
    assert settings.timezone.key == "Asia/Ho_Chi_Minh"
    assert settings.resurvey_days == 90
    assert settings.api_token is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CATI_DATABASE_URL": "not a url"}, "CATI_DATABASE_URL"),
        ({"CATI_DATABASE_URL": "mysql://x@y/z"}, "CATI_DATABASE_URL"),
        ({"CATI_TIMEZONE": "Asia/Hanoi_Typo"}, "CATI_TIMEZONE"),
        ({"CATI_RESURVEY_DAYS": "ninety"}, "CATI_RESURVEY_DAYS"),
        ({"CATI_RESURVEY_DAYS": "-1"}, "CATI_RESURVEY_DAYS"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_cli_reports_a_bad_setting_and_exits_2(monkeypatch):
    from click.testing import CliRunner

    from cati.cli import main

    monkeypatch.setenv("CATI_TIMEZONE", "Nowhere/Else")
    result = CliRunner().invoke(main, ["rounds", "list"])
    assert result.exit_code == 2
    assert "CATI_TIMEZONE" in result.output
