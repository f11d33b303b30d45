"""Linking: the same real-world event, reported by several articles, becomes one.

Splink scores pairs on its DuckDB backend with m/u probabilities set by hand (there is no
labelled data to train on, and inputs are often small): pairs are only formed within a
block of one event type and one canonical party, never all pairs. Any event type links;
only the common fields are read (type, parties, date, evidence, and `quantity` if the
type has one).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._dates import PartialDate
from ._orgs import OrgRegistry, org_key
from .events import Event, Extraction, Failure, LinkedEvent, LinkedSource, Party, Quantity

#: Splink's prior: a pair of the same type sharing an organization is, before anything
#: else is compared, the same occurrence one time in twenty (log2 odds -4.2).
PRIOR = 0.05


def _levels(*levels: tuple[str, str, float, float]) -> list[dict[str, Any]]:
    return [{"sql_condition": sql, "label_for_charts": label, "m_probability": m,
             "u_probability": u} for sql, label, m, u in levels]


def _comparisons(window: int) -> list[dict[str, Any]]:
    """The hand-set model. Weights (log2 m/u): same parties +5.3, one side naming fewer
    +0.7, a different counterparty -4.2; same day +5.6, within the window +3.6, further
    apart -6.6; same quantity +4.3, a different one -7.9. With the prior (-4.2), the same
    parties and nothing against them link (p 0.68), a day apart p 0.96; dates or
    quantities that disagree outweigh everything else.
    """
    null = {"is_null_level": True, "label_for_charts": "unknown"}
    return [
        {"output_column_name": "parties", "comparison_levels": [
            {**null, "sql_condition": "len(orgs_l) = 0 OR len(orgs_r) = 0"},
            *_levels(
                ("list_has_all(orgs_l, orgs_r) AND list_has_all(orgs_r, orgs_l)",
                 "same parties", 0.8, 0.02),
                ("list_has_all(orgs_l, orgs_r) OR list_has_all(orgs_r, orgs_l)",
                 "one report names fewer parties", 0.15, 0.09),
                ("ELSE", "different counterparties", 0.05, 0.89))]},
        {"output_column_name": "date", "comparison_levels": [
            {**null, "sql_condition":
             "(lo_l IS NULL OR lo_r IS NULL) AND (md_l IS NULL OR md_r IS NULL)"},
            *_levels(
                ("(lo_l = hi_l AND lo_r = hi_r AND lo_l = lo_r) OR "
                 "((lo_l IS NULL OR lo_r IS NULL) AND md_l = md_r)", "same day", 0.5, 0.01),
                (f"greatest(lo_l - hi_r, lo_r - hi_l) <= {window}",
                 f"dates within {window} days", 0.49, 0.04),
                ("ELSE", f"dates more than {window} days apart", 0.01, 0.95))]},
        {"output_column_name": "quantity", "comparison_levels": [
            {**null, "sql_condition":
             "qv_l IS NULL OR qv_r IS NULL OR qu_l IS DISTINCT FROM qu_r"},
            *_levels(
                ("abs(qv_l - qv_r) <= 0.01 * greatest(abs(qv_l), abs(qv_r))",
                 "same quantity", 0.996, 0.05),
                ("ELSE", "different quantities", 0.004, 0.95))]},
    ]


# ------------------------------------------------------------------------ records


def interval(value: str | None) -> tuple[int | None, int | None, str | None]:
    """First and last day (ordinals) a date can mean, and its month-day when it has one
    (`PartialDate.ordinals`); nothing for a missing or malformed date."""
    when = PartialDate.read(value)
    return when.ordinals() if when is not None else (None, None, None)


def _quantity(ev: Event) -> Quantity | None:
    quantity = getattr(ev, "quantity", None)
    return quantity if isinstance(quantity, Quantity) else None


def _event_key(result: Extraction, ev: Event) -> str:
    span = f"{ev.evidence[0].start}-{ev.evidence[-1].end}" if ev.evidence else ev.summary
    return f"{result.source}\x00{ev.type}\x00{span}"


def _registry(aliases: str | Path | Mapping[str, Iterable[str]] | OrgRegistry | None,
              results: list[Extraction]) -> OrgRegistry:
    if isinstance(aliases, OrgRegistry):
        registry = aliases
    elif isinstance(aliases, (str, Path)):
        registry = OrgRegistry.from_file(aliases)
    else:
        registry = OrgRegistry(aliases)
    for result in results:
        registry.learn(result.text)
        for ev in result.events:
            for party in ev.parties:
                registry.add(party.name, party.aliases)
    return registry


# ------------------------------------------------------------------------- linking


def link(
    results: Iterable[Extraction | Failure],
    *,
    aliases: str | Path | Mapping[str, Iterable[str]] | OrgRegistry | None = None,
    date_window_days: int = 7,
    threshold: float = 0.5,
) -> list[LinkedEvent]:
    """Merge the events that report the same occurrence; every event ends in one result.

    `aliases` is an alias file (JSON or CSV, see `read_alias_file`), a mapping of
    canonical name to aliases, or an `OrgRegistry`. Pairs link at a match probability of
    `threshold` or more; dates further apart than `date_window_days` count against a link.
    """
    if date_window_days < 0 or not 0 < threshold < 1:
        raise ValueError(f"need date_window_days >= 0 and 0 < threshold < 1, got "
                         f"{date_window_days} and {threshold}")
    extractions = [r for r in results if isinstance(r, Extraction)]
    registry = _registry(aliases, extractions)
    members: list[tuple[Extraction, Event]] = [(r, ev) for r in extractions for ev in r.events]
    records = []
    for uid, (_, ev) in enumerate(members):
        lo, hi, md = interval(ev.date)
        quantity = _quantity(ev)
        records.append({
            "unique_id": uid, "type": ev.type,
            "orgs": sorted({org_key(registry.canonical(p.name)) for p in ev.parties} - {""}),
            "lo": lo, "hi": hi, "md": md,
            "qv": quantity.value if quantity else None,
            "qu": (quantity.unit or "").casefold().replace(" ", "") if quantity else None,
        })
    edges = _score(records, date_window_days, threshold) if len(records) > 1 else []
    return _assemble(members, registry, edges, date_window_days)


def _score(records: list[dict[str, Any]], window: int,
           threshold: float) -> list[dict[str, Any]]:
    """Splink's scored pairs at or above `threshold`, with the level of each comparison."""
    try:
        import pyarrow as pa
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError as exc:
        raise ImportError(f"linking needs splink: pip install 'newsie[link]' ({exc})") from exc
    schema = pa.schema([("unique_id", pa.int64()), ("type", pa.string()),
                        ("orgs", pa.list_(pa.string())), ("lo", pa.int64()),
                        ("hi", pa.int64()), ("md", pa.string()), ("qv", pa.float64()),
                        ("qu", pa.string())])
    comparisons: list[Any] = _comparisons(window)
    db = DuckDBAPI()
    table = db.register(pa.Table.from_pylist(records, schema=schema))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("type", "orgs", arrays_to_explode=["orgs"])],
        probability_two_random_records_match=PRIOR,
        retain_matching_columns=True,  # with the gamma_ (level) columns for the reason
    )
    linker = Linker(table, settings, log_level=None)
    pairs = linker.inference.predict(threshold_match_probability=threshold)
    return pairs.as_record_list()


def _assemble(members: list[tuple[Extraction, Event]], registry: OrgRegistry,
              edges: list[dict[str, Any]], window: int) -> list[LinkedEvent]:
    """Connected components of the links, each with its weakest link's score and reason.

    Splink's `cluster_pairwise_predictions_at_threshold` gives the same components but not
    the link that joined each member, which confidence and reason are made of; a
    union-find over the links, strongest first, gives both.
    """
    parent = list(range(len(members)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, dict[str, Any]] = {}
    for edge in sorted(edges, key=lambda e: -e["match_probability"]):
        left, right = int(edge["unique_id_l"]), int(edge["unique_id_r"])
        a, b = find(left), find(right)
        if a != b:  # a maximum spanning forest: each member joins by its best link
            parent[max(a, b)] = min(a, b)
            best[max(a, b)] = edge
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(members)):
        groups[find(i)].append(i)
    linked = [_linked([members[i] for i in ids], registry,
                      [best[i] for i in ids if i in best], window) for ids in groups.values()]
    linked.sort(key=lambda e: (interval(e.date)[0] or math.inf, e.date or "", e.id))
    return linked


def _reason(edge: dict[str, Any], window: int) -> str:
    """The comparison levels of a pair, in words: "same type; same parties; same day"."""
    parts = ["same type"]
    for comparison in _comparisons(window):
        labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
        gamma = int(edge["gamma_" + comparison["output_column_name"]])
        if gamma >= 0:  # -1 is Splink's null level: nothing to compare
            # Splink numbers the levels from the last (ELSE) = 0 up to the first non-null
            parts.append(labels[len(labels) - 1 - gamma])
    return "; ".join(parts)


def _linked(group: list[tuple[Extraction, Event]], registry: OrgRegistry,
            edges: list[dict[str, Any]], window: int) -> LinkedEvent:
    keys = sorted(_event_key(r, ev) for r, ev in group)
    first = group[0][1]
    names: dict[str, Party] = {}
    for _, ev in group:
        for party in ev.parties:
            canonical = registry.canonical(party.name)
            names.setdefault(canonical, Party(name=canonical, role=party.role,
                                              aliases=registry.aliases(canonical)))
    dates = Counter(ev.date for _, ev in group if ev.date)
    when = min(dates, key=lambda d: (-_precision(d), -dates[d], d)) if dates else None
    weakest = min(edges, key=lambda e: e["match_probability"]) if edges else None
    return LinkedEvent(
        id=hashlib.sha1("\n".join(keys).encode()).hexdigest()[:16],
        type=first.type,
        parties=list(names.values()),
        date=when,
        quantity=next((q for _, ev in group if (q := _quantity(ev))), None),
        summary=first.summary,
        sources=[LinkedSource(source=r.source, title=r.title, published=r.published, event=ev)
                 for r, ev in group],
        confidence=round(float(weakest["match_probability"]), 4) if weakest else None,
        reason=_reason(weakest, window) if weakest else "one report",
    )


def _precision(value: str) -> int:
    """Day 3, month 2, year 1; a day without a year cannot be placed: 0."""
    return 0 if value.startswith("--") else value.count("-") + 1
