"""Django's own answer: every user's permissions as Django's auth computes them.

The Rust tests on the `django` preset run this against their test database, so Warden's
Django semantics (inactive users hold nothing, active superusers everything, group and
direct permissions both count, keys are `app_label.codename`) are checked against Django
itself rather than against a copy of its rules.

Usage: python permissions.py SOCKET DATABASE USER
Prints one JSON object: {username: {"active": bool, "perms": [sorted keys]}}.
"""

import json
import sys

import pymysql

pymysql.install_as_MySQLdb()

import django  # noqa: E402
from django.conf import settings  # noqa: E402

socket, database, user = sys.argv[1:4]
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": database,
            "USER": user,
            "OPTIONS": {"unix_socket": socket, "charset": "utf8mb4"},
        }
    },
    USE_TZ=False,
)
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

out = {}
for u in get_user_model().objects.order_by("username"):
    # has_perm for an active superuser is True whatever the permission; the backend's list
    # is then every permission, which is what Warden reports too.
    perms = sorted(u.get_all_permissions())
    assert all(u.has_perm(p) for p in perms), u.username
    out[u.username] = {"active": u.is_active, "perms": perms}
print(json.dumps(out))
