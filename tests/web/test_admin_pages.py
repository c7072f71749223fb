"""Admins manage accounts in the web with the rules of `cati users`, audited, with CSRF; they
cannot disable themselves."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from cati.models import AuditEvent, User
from cati.web import create_app
from tests.factories import create_office, create_user
from tests.web.test_console_pages import post, signed_in

NEW_PASSWORD = "một mật khẩu mới"


@pytest.fixture
def web(runtime):
    return create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": True})


def user(session, username):
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def audits(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_an_admin_adds_an_account_audited(web, session):
    admin = signed_in(web, session, "an", "admin")
    response = post(admin, "/admin/users", "/admin/users", username=" Hoa ", role="manager",
                    password=NEW_PASSWORD, password_again=NEW_PASSWORD)  # fmt: skip
    assert response.status_code == 302
    assert "Đã thêm tài khoản hoa." in admin.get("/admin/users").get_data(as_text=True)
    added = user(session, "hoa")
    assert added.role == "manager" and check_password_hash(added.password_hash, NEW_PASSWORD)
    (event,) = audits(session, "user_added")
    assert event.user_id == user(session, "an").id
    assert json.loads(event.details) == {"username": "hoa", "role": "manager"}


def test_an_office_account_needs_its_office(web, session):
    create_office(session, "DH")
    admin = signed_in(web, session, "an", "admin")
    response = post(admin, "/admin/users", "/admin/users", username="dh", role="office",
                    password=NEW_PASSWORD, password_again=NEW_PASSWORD)  # fmt: skip
    assert response.status_code == 422
    assert "cần chọn đơn vị" in response.get_data(as_text=True)
    response = post(admin, "/admin/users", "/admin/users", username="dh", role="office",
                    office="DH", password=NEW_PASSWORD, password_again=NEW_PASSWORD)  # fmt: skip
    assert response.status_code == 302 and user(session, "dh").office_id is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "hoa", "password": "ngắn", "password_again": "ngắn"},
         "Mật khẩu quá ngắn: cần ít nhất 10 ký tự."),
        ({"username": "hoa", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"},
         "Hai lần nhập mật khẩu không khớp nhau"),
        ({"username": "Hoa Nguyễn", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
         "Tên đăng nhập không hợp lệ"),
        ({"username": "an", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
         "Tên đăng nhập này đã có người dùng."),
    ],
)  # fmt: skip
def test_refused_accounts_say_why_and_keep_the_form(web, session, fields, message):
    admin = signed_in(web, session, "an", "admin")
    response = post(admin, "/admin/users", "/admin/users", role="interviewer", **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'value="{fields["username"]}"' in page
    assert NEW_PASSWORD not in page  # a password is never sent back
    assert audits(session, "user_added") == []


def test_an_admin_disables_an_account_but_not_their_own(web, session):
    target = create_user(session, "lan", "interviewer")
    admin = signed_in(web, session, "an", "admin")
    me = user(session, "an")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="disable-lan"' in page and 'data-testid="disable-an"' not in page
    response = post(admin, "/admin/users", f"/admin/users/{me.id}/disable")
    assert response.status_code == 422
    assert "không thể tự khoá" in response.get_data(as_text=True) and user(session, "an").active
    response = post(admin, "/admin/users", f"/admin/users/{target.id}/disable")
    assert response.status_code == 302 and not user(session, "lan").active
    (event,) = audits(session, "user_disabled")
    assert event.user_id == me.id and json.loads(event.details) == {"username": "lan"}


def test_an_admin_sets_a_new_password_typed_twice(web, session):
    target = create_user(session, "lan", "interviewer")
    token_before = target.session_token
    admin = signed_in(web, session, "an", "admin")
    url = f"/admin/users/{target.id}/password"
    response = post(admin, url, url, password=NEW_PASSWORD, password_again="khác hẳn nhau 1")
    assert response.status_code == 422 and "không khớp" in response.get_data(as_text=True)
    response = post(admin, url, url, password="ngắn", password_again="ngắn")
    assert response.status_code == 422 and "quá ngắn" in response.get_data(as_text=True)
    response = post(admin, url, url, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert response.status_code == 302
    changed = user(session, "lan")
    assert check_password_hash(changed.password_hash, NEW_PASSWORD)
    assert changed.session_token != token_before  # its sessions ended
    (event,) = audits(session, "password_changed")
    assert event.user_id == user(session, "an").id
    assert admin.get("/admin/users/999999/password").status_code == 404


def test_admin_forms_need_the_csrf_token(web, session):
    target = create_user(session, "lan", "interviewer")
    admin = signed_in(web, session, "an", "admin")
    assert admin.post(f"/admin/users/{target.id}/disable").status_code == 400
    assert admin.post("/admin/users", data={"username": "x"}).status_code == 400
    assert user(session, "lan").active


def test_managers_cannot_manage_accounts(web, session):
    target = create_user(session, "lan", "interviewer")
    manager = signed_in(web, session, "minh", "manager")
    assert manager.get("/admin/users").status_code == 403
    page = manager.get("/dashboard").get_data(as_text=True)
    from tests.web.test_console_pages import token

    response = manager.post(f"/admin/users/{target.id}/disable", data={"csrf_token": token(page)})
    assert response.status_code == 403 and user(session, "lan").active
