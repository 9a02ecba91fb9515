"""The CONSORT flow as data: boxes (nodes) and arrows (edges) built from the results document's
``consort`` section, before anything is drawn. No Django imports; labels are added by the
caller.

Every box that splits a count has children that add up to it: screened = not eligible +
declined + enrolled (+ eligible, not enrolled); enrolled = randomised + not randomised;
randomised = Σ allocated; per arm allocated = analysed + Σ excluded from analysis by reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.stats.common import ARMS
from analysis.stats.flow import NOT_ANALYSED_OUTCOME_MISSING as OUTCOME_MISSING


@dataclass(frozen=True)
class Node:
    key: str
    count: int
    stage: str  # enrolment, allocation, follow_up, analysis
    arm: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    side: bool = False  # an exclusion box beside the main column


@dataclass(frozen=True)
class Flow:
    nodes: list[Node]
    edges: list[tuple[str, str]]

    def node(self, key: str) -> Node:
        return next(n for n in self.nodes if n.key == key)

    def children(self, key: str) -> list[Node]:
        return [self.node(b) for a, b in self.edges if a == key]


def consort_flow(consort: dict) -> Flow:
    """Nodes and edges of the CONSORT diagram; KeyError when the section has no counts."""
    screened, enrolled = consort["screened"], consort["enrolled"]
    not_eligible, declined = consort["not_eligible"], consort["declined"]
    randomised = consort["randomised"]
    nodes = [
        Node("screened", screened, "enrolment"),
        Node(
            "not_eligible",
            not_eligible,
            "enrolment",
            reasons=dict(consort.get("not_eligible_reasons") or {}),
            side=True,
        ),
        Node("declined", declined, "enrolment", side=True),
    ]
    edges = [("screened", "not_eligible"), ("screened", "declined")]
    waiting = screened - not_eligible - declined - enrolled
    if waiting > 0:
        nodes.append(Node("not_enrolled", waiting, "enrolment", side=True))
        edges.append(("screened", "not_enrolled"))
    nodes.append(Node("enrolled", enrolled, "enrolment"))
    edges.append(("screened", "enrolled"))
    not_randomised = consort.get("enrolled_not_randomised", enrolled - randomised)
    if not_randomised:
        nodes.append(Node("not_randomised", not_randomised, "enrolment", side=True))
        edges.append(("enrolled", "not_randomised"))
    nodes.append(Node("randomised", randomised, "allocation"))
    edges.append(("enrolled", "randomised"))
    breakdown = consort.get("not_analysed") or {}
    for arm in ARMS:
        counts = consort["arms"][arm]
        allocated, analysed = counts["allocated"], counts["analysed"]
        excluded = _excluded(allocated - analysed, breakdown.get(arm))
        discontinued = dict(counts.get("discontinued") or {})
        received = counts["received_allocation"]
        nodes += [
            Node(
                f"allocated:{arm}",
                allocated,
                "allocation",
                arm,
                reasons={"received": received, "not_received": allocated - received},
            ),
            Node(
                f"follow_up:{arm}",
                counts["lost_to_follow_up"] + sum(discontinued.values()),
                "follow_up",
                arm,
                reasons={"lost_to_follow_up": counts["lost_to_follow_up"], **discontinued},
            ),
            Node(f"analysed:{arm}", analysed, "analysis", arm),
            Node(f"excluded:{arm}", sum(excluded.values()), "analysis", arm, excluded, True),
        ]
        edges += [
            ("randomised", f"allocated:{arm}"),
            (f"allocated:{arm}", f"follow_up:{arm}"),
            (f"follow_up:{arm}", f"analysed:{arm}"),
            (f"follow_up:{arm}", f"excluded:{arm}"),
        ]
    return Flow(nodes, edges)


def _excluded(count: int, reasons: dict[str, int] | None) -> dict[str, int]:
    """The reasons for ``count`` allocated patients left out of the analysis. A breakdown that
    does not add up (an older document, or none at all) keeps what it explains and puts the
    rest under the mITT rule, so the box always adds up."""
    reasons = {k: int(v) for k, v in (reasons or {}).items() if v}
    rest = count - sum(reasons.values())
    if rest < 0:
        reasons = {}
        rest = count
    if rest:
        reasons[OUTCOME_MISSING] = reasons.get(OUTCOME_MISSING, 0) + rest
    return reasons
