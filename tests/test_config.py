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
    assert (settings.sampling_cron, settings.sampling_flows) == ("0 7 * * mon", ("mscore",))
    assert (settings.sampling_rate, settings.sampling_size) == (0.2, None)
    assert (settings.retention_days, settings.dial_interval_s, settings.proxy_fix) == (180, 30, 0)
    assert settings.round_calling_days == 14


def test_scheduler_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "CATI_SAMPLING_CRON": "30  6 * * tue",
            "CATI_SAMPLING_FLOWS": "mscore, sipas,mscore",
            "CATI_SAMPLING_SIZE": "400",
            "CATI_SAMPLING_MODE": "interviewer",
            "CATI_RETENTION_DAYS": "365",
        }
    )
    assert settings.sampling_cron == "30 6 * * tue"
    assert settings.sampling_flows == ("mscore", "sipas")
    assert (settings.sampling_rate, settings.sampling_size) == (None, 400)
    assert (settings.sampling_mode, settings.retention_days) == ("interviewer", 365)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CATI_DATABASE_URL": "not a url"}, "CATI_DATABASE_URL"),
        ({"CATI_DATABASE_URL": "mysql://x@y/z"}, "CATI_DATABASE_URL"),
        ({"CATI_TIMEZONE": "Asia/Hanoi_Typo"}, "CATI_TIMEZONE"),
        ({"CATI_RESURVEY_DAYS": "ninety"}, "CATI_RESURVEY_DAYS"),
        ({"CATI_RESURVEY_DAYS": "-1"}, "CATI_RESURVEY_DAYS"),
        ({"CATI_SAMPLING_CRON": "every monday"}, "CATI_SAMPLING_CRON"),
        ({"CATI_SAMPLING_CRON": "0 25 * * mon"}, "CATI_SAMPLING_CRON"),
        ({"CATI_RETENTION_CRON": "* * *"}, "CATI_RETENTION_CRON"),
        ({"CATI_SAMPLING_FLOWS": "mscore; sipas"}, "CATI_SAMPLING_FLOWS"),
        ({"CATI_SAMPLING_RATE": "0.2", "CATI_SAMPLING_SIZE": "100"}, "CATI_SAMPLING_SIZE"),
        ({"CATI_SAMPLING_RATE": "0"}, "CATI_SAMPLING_RATE"),
        ({"CATI_SAMPLING_RATE": "1.5"}, "CATI_SAMPLING_RATE"),
        ({"CATI_SAMPLING_SIZE": "0"}, "CATI_SAMPLING_SIZE"),
        ({"CATI_SAMPLING_MODE": "robot"}, "CATI_SAMPLING_MODE"),
        ({"CATI_DIAL_INTERVAL_S": "0"}, "CATI_DIAL_INTERVAL_S"),
        ({"CATI_RETENTION_DAYS": "0"}, "CATI_RETENTION_DAYS"),
        ({"CATI_SCHEDULER_HEARTBEAT_S": "fast"}, "CATI_SCHEDULER_HEARTBEAT_S"),
        ({"CATI_PROXY_FIX": "yes"}, "CATI_PROXY_FIX"),
        ({"CATI_LOG_FORMAT": "xml"}, "CATI_LOG_FORMAT"),
        ({"CATI_RETENTION_DAYS": "60"}, "CATI_RETENTION_DAYS"),  # under the 90 re-survey days
        ({"CATI_ROUND_CALLING_DAYS": "0"}, "CATI_ROUND_CALLING_DAYS"),
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


def test_a_bad_database_url_is_not_quoted_back():
    """The value may hold a password, and the message ends up in logs."""
    for value in ("postgresql+psycopg//cati:hunter2@db/cati", "postgresql://u:p@ss@db:port/x"):
        with pytest.raises(SettingsError, match="CATI_DATABASE_URL") as error:
            Settings.from_env({"CATI_DATABASE_URL": value})
        assert "hunter2" not in str(error.value) and "p@ss" not in str(error.value)


def test_follow_up_and_mail_settings():
    settings = Settings.from_env(
        {
            "CATI_FOLLOW_UP_WORKING_DAYS": "15",
            "CATI_SMTP_URL": "smtp://127.0.0.1:2525",
            "CATI_SMTP_FROM": "khaosat@sonoivu.gov.vn",
        }
    )
    assert settings.follow_up_working_days == 15
    assert settings.smtp_url == "smtp://127.0.0.1:2525"
    assert settings.smtp_from == "khaosat@sonoivu.gov.vn"
    assert Settings.from_env({}).smtp_url is None
    assert Settings.from_env({}).follow_up_working_days == 5
    for env, name in [
        ({"CATI_FOLLOW_UP_WORKING_DAYS": "0"}, "CATI_FOLLOW_UP_WORKING_DAYS"),
        ({"CATI_SMTP_URL": "http://mail.example.vn"}, "CATI_SMTP_URL"),
        ({"CATI_SMTP_URL": "smtp://user:secret@:25"}, "CATI_SMTP_URL"),
        ({"CATI_SMTP_FROM": "not an address"}, "CATI_SMTP_FROM"),
        ({"CATI_DIGEST_CRON": "daily"}, "CATI_DIGEST_CRON"),
    ]:
        with pytest.raises(SettingsError, match=name) as caught:
            Settings.from_env(env)
        assert "secret" not in str(caught.value)


@pytest.mark.parametrize("sender", ["SONOIVU", "SoNoiVu QT", "UBND 1022", "ABCDEFGHIJK"])
def test_sms_sender_is_a_brand_name_of_at_most_11_characters(sender):
    settings = Settings.from_env(
        {"CATI_SMS": "1", "CATI_SMS_SENDER": sender, "CATI_HOTLINE": "1900 1234"}
    )
    assert settings.sms and settings.sms_sender == sender


@pytest.mark.parametrize("sender", ["ABCDEFGHIJKL", "SỞ NỘI VỤ", "+84912345678", "SO-NOI", "1234"])
def test_a_bad_sms_sender_is_refused_naming_it(sender):
    with pytest.raises(SettingsError, match="CATI_SMS_SENDER"):
        Settings.from_env({"CATI_SMS_SENDER": sender})


def test_sms_needs_a_sender():
    assert Settings.from_env({}).sms is False
    with pytest.raises(SettingsError, match="CATI_SMS=1 needs CATI_SMS_SENDER"):
        Settings.from_env({"CATI_SMS": "1"})
    with pytest.raises(SettingsError, match="CATI_SMS=1 needs CATI_HOTLINE"):
        Settings.from_env({"CATI_SMS": "1", "CATI_SMS_SENDER": "SONOIVU"})
    assert Settings.from_env(
        {"CATI_SMS": "1", "CATI_SMS_SENDER": "SONOIVU", "CATI_CALLER_ID": "+842333852123"}
    ).sms
