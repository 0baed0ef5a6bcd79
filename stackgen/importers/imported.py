"""What an import yields: stackgen SLOs, what of the source could not be carried over (never
dropped silently), and the problems that kept an SLO out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser as pp
from pydantic import ValidationError

from stackgen.conventions import SLO_BURN_TIERS
from stackgen.spec import SLO, QuerySLI
from stackgen.spec.base import SpecError
from stackgen.spec.slo import WINDOW_PLACEHOLDER as WINDOW

__all__ = ["ImportResult", "SourceSLO", "SpecImportError", "slo_name"]


class SpecImportError(Exception):
    """The file is not a spec of the kind asked for (or not YAML): nothing to import."""


@dataclass(frozen=True)
class SourceSLO:
    """An SLO as the source spec has it, before it becomes a stackgen SLO. ``identity``
    is the source tool's id of it (Sloth's ``sloth_id``), ``where`` its place in the file."""

    identity: str
    where: str
    description: str
    objective: float
    period: str
    sli: dict[str, str]
    page: bool = True
    ticket: bool = True


@dataclass
class ImportResult:
    """The SLOs imported from one file; ``unsupported`` names every field left behind,
    ``skipped`` every SLO that could not be imported, with why."""

    source: str
    kind: str
    slos: list[SLO] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, source: SourceSLO) -> None:
        """Make ``source`` a stackgen SLO, or say in ``skipped`` why it cannot be one."""
        for name, query in sorted(source.sli.items()):
            try:
                pp.parse(query.replace(WINDOW, "5m"))
            except ValueError as error:
                self.skipped.append(f"{source.where}: {name} is not PromQL: {error}")
                return
        page, ticket = source.page, source.ticket
        budget = 1 - source.objective / 100
        for tier, *_, factor, _severity in SLO_BURN_TIERS:
            if factor * budget >= 1 and (page if tier == "page" else ticket):
                # The source's alert could never fire either: the ratio cannot exceed 1.
                self.unsupported.append(
                    f"{source.where}: the {tier} alerts need an error ratio of "
                    f"{factor:g} x {budget:.3g} >= 1 and could never fire: imported without them"
                )
                page, ticket = (False, ticket) if tier == "page" else (page, False)
        try:
            slo = SLO(
                name=slo_name(source.identity),
                description=source.description,
                objective=source.objective,
                period=source.period,
                sli=QuerySLI(**source.sli),
                page=page,
                ticket=ticket,
            )
        except (ValidationError, SpecError) as error:
            self.skipped.append(f"{source.where}: not imported: {error}")
            return
        self.slos.append(slo)
        self.identities.append(source.identity)


def slo_name(identity: str) -> str:
    """A stackgen SLO name (lower case, digits and dashes, starting with a letter)."""
    name = re.sub(r"[^a-z0-9-]+", "-", identity.lower()).strip("-")
    return name if re.match(r"^[a-z]", name) else f"slo-{name}"
