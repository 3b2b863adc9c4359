"""What a resource's `differences` says, as tests compare it: the fields, or the text `plan`
shows (`field: old -> new`)."""

from __future__ import annotations

from collections.abc import Iterable

from wcpipe.provision.resources.base import Difference


def names(differences: Iterable[Difference]) -> list[str]:
    return [d.field for d in differences]


def texts(differences: Iterable[Difference]) -> list[str]:
    return [d.text() for d in differences]
