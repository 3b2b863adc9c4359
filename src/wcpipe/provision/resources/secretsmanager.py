"""Secrets Manager: the warehouse admin credentials, generated once and never shown.

Contract (see `resources/base.py`): `describe` makes only read calls (describe_secret,
get_secret_value) and keeps no password in what it returns; `differences` is pure; only
`create`/`update`/`delete` write. The secret is JSON {"username", "password", "engine",
"dbname"}; the password is generated here (Python `secrets`) and kept through every update.
A secret scheduled for deletion counts as absent; creating over one restores it first (AWS
refuses a new secret with that name until the deletion completes). Deleting forces immediate
deletion without a recovery window.

The password never appears in a log line, a note or an error: every call that carries or
returns the secret value goes through `_guarded`, which raises a WcpipeError made from the
error code and a scrubbed message, with the original exception suppressed.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from typing import Any, TypeVar

from wcpipe.core import debuglog
from wcpipe.core.errors import WcpipeError, error_code, error_message, ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Context,
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)

T = TypeVar("T")

PASSWORD_LENGTH = 32
# Redshift accepts printable ASCII except ' " \ / @ and space.
PASSWORD_ALPHABET = "".join(
    c for c in string.ascii_letters + string.digits + string.punctuation if c not in "'\"\\/@"
)
NOT_FOUND = "ResourceNotFoundException"
DESCRIPTION = "wcpipe: Redshift admin credentials for pipeline {name} (generated; do not share)"


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password Redshift accepts: upper, lower and digit, no quote, slash, @ or space."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            debuglog.hide(password)
            return password


def _guarded(doing: str, call: Callable[[], T], *, hide: tuple[str, ...] = ()) -> T:
    """Run a call that carries a secret value; on failure raise an error that cannot contain
    it (the message is scrubbed and the original exception, with its arguments, dropped)."""
    try:
        return call()
    except Exception as exc:
        code = error_code(exc) or type(exc).__name__
        message = error_message(exc) if error_code(exc) else "request failed"
    for value in hide:
        if value:
            message = message.replace(value, "***")
    # Raised outside the except block, so the original is not even kept as __context__.
    raise WcpipeError(f"{doing}: {code}: {message}")


def _read_value(client: Any, secret_id: str) -> dict[str, Any]:
    def call() -> dict[str, Any]:
        text = client.get_secret_value(SecretId=secret_id)["SecretString"]
        value = json.loads(text)
        if isinstance(value, dict):
            debuglog.hide(str(value.get("password") or ""))
        return value if isinstance(value, dict) else {}

    return _guarded(f"reading secret {secret_id}", call)


def admin_credentials(ctx: Context) -> tuple[str, str]:
    """(username, password) of the warehouse admin, read from the pipeline's secret."""
    name = ctx.names.secret
    value = _read_value(ctx.client("secretsmanager"), name)
    if not value.get("username") or not value.get("password"):
        raise WcpipeError(
            f"secret {name} holds no username and password",
            hint="run `wcpipe up` to repair it",
        )
    return str(value["username"]), str(value["password"])


class AdminSecret(Resource):
    key = "secretsmanager.admin-secret"
    kind = "secret"

    @property
    def name(self) -> str:
        return self.ctx.names.secret

    @property
    def sm(self) -> Any:
        return self.ctx.client("secretsmanager")

    @property
    def description(self) -> str:
        return DESCRIPTION.format(name=self.ctx.spec.name)

    def _wanted(self, password: str) -> str:
        wh = self.ctx.spec.warehouse
        value = {
            "username": wh.admin_user,
            "password": password,
            "engine": "redshift",
            "dbname": wh.database,
        }
        return json.dumps(value)

    def _raw(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = ignoring(
            lambda: self.sm.describe_secret(SecretId=self.name), NOT_FOUND
        )
        return found

    def describe(self) -> Observed | None:
        raw = self._raw()
        if raw is None or raw.get("DeletedDate"):
            return None
        observed = Observed(
            {"arn": raw["ARN"], "description": raw.get("Description", "")},
            tags_from_list(raw.get("Tags")),
        )
        if not self.owned(observed):
            return observed
        value = _read_value(self.sm, self.name)
        observed.data.update(
            username=value.get("username"),
            dbname=value.get("dbname"),
            engine=value.get("engine"),
            has_password=bool(value.get("password")),
        )
        return observed

    def differences(self, observed: Observed) -> list[Difference]:
        """The secret's value is never shown: only whether it has a password."""
        d = observed.data
        wh = self.ctx.spec.warehouse
        fields = self.tag_differences(observed)
        if d.get("description") != self.description:
            fields.append(Difference("description", d.get("description"), self.description))
        if not d.get("has_password"):
            fields.append(Difference("password", "(none)", "(generated)"))
        if d.get("username") != wh.admin_user:
            fields.append(Difference("username", d.get("username"), wh.admin_user))
        if d.get("dbname") != wh.database or d.get("engine") != "redshift":
            have = f"{d.get('dbname')} ({d.get('engine')})"
            fields.append(Difference("dbname", have, f"{wh.database} (redshift)"))
        return fields

    def create(self) -> Observed | None:
        password = generate_password()
        try:
            created = _guarded(
                f"creating secret {self.name}",
                lambda: self.sm.create_secret(
                    Name=self.name,
                    Description=self.description,
                    SecretString=self._wanted(password),
                    Tags=self.ctx.tag_list(),
                ),
                hide=(password,),
            )
            wh = self.ctx.spec.warehouse
            # What a describe would now find (never the password itself).
            facts = {"username": wh.admin_user, "dbname": wh.database, "engine": "redshift"}
            return Observed(
                {
                    "arn": created["ARN"],
                    "description": self.description,
                    **facts,
                    "has_password": True,
                },
                dict(self.ctx.tags),
            )
        except WcpipeError:
            raw = self._raw()
            if raw is None:
                raise
        # The name is taken: by a secret pending deletion (AWS says InvalidRequestException,
        # moto ResourceExistsException) or by a concurrent run. Restore, then converge.
        if raw.get("DeletedDate"):
            self.sm.restore_secret(SecretId=self.name)
        observed = self.describe()
        if observed is None:
            raise WcpipeError(f"secret {self.name} could not be restored")
        self.check_owned(observed)
        fields = Differences(self.differences(observed))
        if fields:
            self.update(observed, fields)
        return None

    def update(self, observed: Observed, fields: Differences) -> None:
        if TAGS in fields:
            self._retag(observed)
        if "description" in fields:
            self.sm.update_secret(SecretId=self.name, Description=self.description)
        if {"password", "username", "dbname"} & set(fields.fields):
            # Keep the password the warehouse already uses; make one only if there is none.
            current = _read_value(self.sm, self.name)
            password = str(current.get("password") or generate_password())
            _guarded(
                f"updating secret {self.name}",
                lambda: self.sm.put_secret_value(
                    SecretId=self.name, SecretString=self._wanted(password)
                ),
                hide=(password,),
            )

    def _retag(self, observed: Observed) -> None:
        self.sync_tags(
            observed, lambda tags: self.sm.tag_resource(SecretId=self.name, Tags=tag_list(tags))
        )

    def delete(self, observed: Observed) -> None:
        ignoring(
            lambda: self.sm.delete_secret(SecretId=self.name, ForceDeleteWithoutRecovery=True),
            NOT_FOUND,
        )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"arn": observed.data["arn"]}

    def facts(self, observed: Observed) -> dict[str, str]:
        return {"username": str(observed.data.get("username", ""))}
