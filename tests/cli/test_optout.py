"""`cati optout`: add, remove and list, with numbers retention kept only as keyed hashes."""

import json

from sqlalchemy import select

from cati.models import OptOut
from cati.services.retention import opt_out_hash
from tests.conftest import NOW


def hashed(session, runtime, phone: str) -> OptOut:
    digest = opt_out_hash(runtime.settings.resolve_secret_key(), phone)
    entry = OptOut(phone_hash=digest, reason="asked", created_at=NOW)
    session.add(entry)
    session.flush()
    return entry


def test_add_list_and_remove(cli):
    assert cli("optout", "add", "0912 345 678", "--reason", "hotline").stdout == "added\n"
    assert cli("optout", "add", "+84912345678").stdout == "already on the list\n"
    listed = cli("optout", "list")
    assert (listed.stdout, listed.stderr) == ("+84912345678\n", "")
    assert cli("optout", "remove", "0912345678").stdout == "removed\n"
    assert cli("optout", "remove", "0912345678").stdout == "not on the list\n"
    assert cli("optout", "add", "12").exit_code == 2


def test_a_number_kept_as_a_hash_is_already_blocked(cli, session, runtime):
    hashed(session, runtime, "+84912345678")
    result = cli("optout", "add", "0912 345 678")
    assert result.exit_code == 0
    assert result.stdout.startswith("already blocked")
    assert session.scalars(select(OptOut.phone)).all() == [None]


def test_remove_also_removes_a_number_kept_as_a_hash(cli, session, runtime):
    hashed(session, runtime, "+84912345678")
    hashed(session, runtime, "+84912345679")
    assert cli("optout", "remove", "0912 345 678").stdout == "removed\n"
    session.expire_all()
    remaining = session.scalars(select(OptOut.phone_hash)).all()
    assert remaining == [opt_out_hash(runtime.settings.resolve_secret_key(), "+84912345679")]


def test_list_prints_numbers_only_and_counts_hashes_on_stderr(cli, session, runtime):
    cli("optout", "add", "0912 345 678")
    hashed(session, runtime, "+84912000001")
    hashed(session, runtime, "+84912000002")

    listed = cli("optout", "list")
    assert listed.stdout == "+84912345678\n"
    assert listed.stderr == "and 2 numbers kept only as keyed hashes (erased by retention)\n"

    as_json = cli("optout", "list", "--json")
    assert json.loads(as_json.stdout) == ["+84912345678"]
    assert "2 numbers kept only as keyed hashes" in as_json.stderr
