"""Linking: the same real-world event, reported by several articles, becomes one.

Splink scores pairs on its DuckDB backend with m/u probabilities set by hand (there is no
labelled data to train on, and inputs are often small): pairs are only formed between
events of one type that share two organization families (a unit counts as its parent), or
one when a report names only one, never all pairs. Any event type links; only the common
fields are read (type, parties, date, evidence, the publication date, and `quantity`,
`value` and `agreement` if the type has them).

Time is what makes shared parties mean one occurrence: companies that deal once deal
again. So a pair where either report has no date (neither an event date nor a publication
date) links only on more than its parties: an amount or quantity that agrees, or evidence
in similar words (`undated_support`).

Then the pairs are joined, strongest first, into events: never two reports whose dates,
quantities or deals disagree (`linking.agree`), not even through a third report, and not a report
that fits two such events equally well.
"""

from __future__ import annotations

import calendar
import gc
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..events import Event, Extraction, Failure, Kind, LinkedEvent, LinkedSource, Party, Quantity
from ..reading.dates import PartialDate
from .agree import (
    DEFAULT_WINDOW_DAYS,
    TOLERANCE,
    Facts,
    When,
    amount,
    conflict,
    event_facts,
    field,
    interval,
)
from .orgs import Aliases, OrgRegistry, org_key
from .unionfind import UnionFind

__all__ = ["PRIOR", "interval", "link"]

#: Splink's prior: a pair of the same type sharing an organization is, before anything
#: else is compared, the same occurrence one time in twenty (log2 odds -4.2).
PRIOR = 0.05

#: Shares of the words two reports use (evidence, party names left out) for "similar
#: wording" and "some shared words".
SIMILAR, SOME = 0.3, 0.15
#: Content words two undated reports must share, besides a `SIMILAR` share, to link on
#: wording: three in common between two short sentences is chance.
UNDATED_SHARED_WORDS = 4


def _levels(*levels: tuple[str, str, float, float]) -> list[dict[str, Any]]:
    return [{"sql_condition": sql, "label_for_charts": label, "m_probability": m,
             "u_probability": u} for sql, label, m, u in levels]


def _close(value: str, unit: str) -> str:
    return (f"({unit}_l = {unit}_r AND abs({value}_l - {value}_r) > "
            f"{TOLERANCE} * greatest(abs({value}_l), abs({value}_r)))")


def _comparisons(window: int) -> list[dict[str, Any]]:
    """The hand-set model. Weights (log2 m/u), with the prior at -4.2:

    - parties, by organization family: the same +5.1; one report names more (two or more
      shared) +3.6; two or more shared, each naming others +3.0; one report names a
      single party of the other's 0; a different counterparty -9.8 (never links);
    - time: the same day +6.5; dates within the window +3.5; a publication date within
      the window of the other's date or publication date +2.1; further apart -6.5;
    - amounts: the same +4.3, different -7.9;
    - wording of the evidence: similar +2.9, some words shared 0, different -0.7.

    The same parties and publication dates two days apart link (p 0.83) even in different
    words; one party more, too (p 0.64). Dates, amounts or deals that disagree never link:
    `linking.agree.conflict` vetoes them after scoring; the low weights here only drop such pairs
    early.
    """
    null = {"is_null_level": True, "label_for_charts": "unknown"}
    gap = "greatest(lo_l - hi_r, lo_r - hi_l)"
    return [
        {"output_column_name": "parties", "comparison_levels": [
            {**null, "sql_condition": "len(fams_l) = 0 OR len(fams_r) = 0"},
            *_levels(
                ("list_has_all(fams_l, fams_r) AND list_has_all(fams_r, fams_l)",
                 "same parties", 0.70, 0.02),
                ("(list_has_all(fams_l, fams_r) AND len(fams_r) >= 2) OR "
                 "(list_has_all(fams_r, fams_l) AND len(fams_l) >= 2)",
                 "one report names more parties", 0.12, 0.01),
                ("len(list_intersect(fams_l, fams_r)) >= 2",
                 "shared counterparties", 0.04, 0.005),
                ("(len(fams_l) = 1 AND list_has_all(fams_r, fams_l)) OR "
                 "(len(fams_r) = 1 AND list_has_all(fams_l, fams_r))",
                 "one report names one party", 0.139, 0.1),
                ("ELSE", "different counterparties", 0.001, 0.865))]},
        {"output_column_name": "date", "comparison_levels": [
            {**null, "sql_condition": "(lo_l IS NULL OR lo_r IS NULL) AND "
                                      "(md_l IS NULL OR md_r IS NULL OR md_l <> md_r)"},
            *_levels(
                ("NOT pub_l AND NOT pub_r AND ((lo_l = hi_l AND lo_r = hi_r AND lo_l = lo_r) "
                 "OR ((lo_l IS NULL OR lo_r IS NULL) AND md_l = md_r))", "same day", 0.45,
                 0.005),
                (f"NOT pub_l AND NOT pub_r AND {gap} <= {window}",
                 f"dates within {window} days", 0.35, 0.03),
                (f"{gap} <= {window}", f"published within {window} days", 0.19, 0.045),
                ("ELSE", f"dates more than {window} days apart", 0.01, 0.92))]},
        {"output_column_name": "quantity", "comparison_levels": [
            {**null, "sql_condition": "(qu_l IS NULL OR qu_r IS NULL OR qu_l <> qu_r) AND "
                                      "(mu_l IS NULL OR mu_r IS NULL OR mu_l <> mu_r)"},
            *_levels(
                (f"{_close('qv', 'qu')} OR {_close('mv', 'mu')}",
                 "different quantities", 0.004, 0.95),
                ("ELSE", "same quantity", 0.996, 0.05))]},
        {"output_column_name": "wording", "comparison_levels": [
            {**null, "sql_condition": "len(words_l) = 0 OR len(words_r) = 0"},
            *_levels(
                (f"len(list_intersect(words_l, words_r)) >= "
                 f"{SIMILAR} * len(list_distinct(list_concat(words_l, words_r)))",
                 "similar wording", 0.3, 0.04),
                (f"len(list_intersect(words_l, words_r)) >= "
                 f"{SOME} * len(list_distinct(list_concat(words_l, words_r)))",
                 "some shared words", 0.3, 0.3),
                ("ELSE", "different wording", 0.4, 0.66))]},
    ]


# ------------------------------------------------------------------------ records

#: Words that say nothing about which deal a report is about: function words, and the
#: names of months and days (dates are compared as dates).
_STOP = frozenset([
    "about", "above", "after", "again", "against", "also", "although", "among", "and",
    "another", "any", "are", "around", "because", "been", "before", "being", "below", "between",
    "both", "but", "can", "could", "did", "does", "during", "each", "either", "even", "ever",
    "every", "for", "from", "further", "had", "has", "have", "having", "her", "here", "hers",
    "him", "his", "how", "however", "into", "its", "itself", "just", "last", "least", "less",
    "like", "many", "may", "might", "more", "most", "much", "must", "near", "next", "not",
    "now", "off", "once", "one", "only", "other", "our", "out", "over", "own", "per", "said",
    "same", "says", "say", "several", "she", "should", "since", "some", "such", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "thus", "today", "too", "two", "under", "until", "upon", "very", "was", "were", "what",
    "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with",
    "within", "without", "would", "year", "years", "yesterday", "you", "your", "week", "month"]
    + [n.casefold() for n in [*calendar.month_name, *calendar.month_abbr,
                              *calendar.day_name, *calendar.day_abbr] if n])
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def _words(ev: Event, drop: set[str]) -> list[str]:
    """The event's evidence as a set of content words, without the words in `drop`."""
    words = {w for span in ev.evidence for w in _TOKEN.findall(span.text.casefold())}
    return sorted(w for w in words - drop - _STOP if len(w) > 2)


class _Names:
    """The registry's answers for a party name, asked once: names repeat across reports."""

    def __init__(self, registry: OrgRegistry) -> None:
        self.registry = registry
        self._memo: dict[str, tuple[str, str, list[str], frozenset[str]]] = {}

    def __call__(self, name: str) -> tuple[str, str, list[str], frozenset[str]]:
        """Canonical name, family key, aliases, and the words of all those names."""
        hit = self._memo.get(name)
        if hit is None:
            canonical, aliases = self.registry.canonical(name), self.registry.aliases(name)
            words = frozenset(w for n in (name, canonical, *aliases)
                              for w in _TOKEN.findall(n.casefold()))
            hit = self._memo[name] = (canonical, org_key(self.registry.family(name)),
                                      aliases, words)
        return hit


def _quantity(ev: Event) -> Quantity | None:
    """The event's first quantity, whatever its type calls the field."""
    return next(iter(ev.fields_of(Kind.QUANTITY).values()), None)


def _event_keys(members: list[tuple[Extraction, Event]]) -> list[str]:
    """One key per event, unique in the corpus: its article, type and evidence, and a digest
    of all it says, since two events of one sentence ("20 GWh in March ... another 5 GWh
    in June") share the rest. Events identical in every field are numbered."""
    keys, seen = [], Counter[str]()
    for result, ev in members:
        span = f"{ev.evidence[0].start}-{ev.evidence[-1].end}" if ev.evidence else ev.summary
        digest = hashlib.sha1(ev.model_dump_json().encode()).hexdigest()
        key = f"{result.source}\x00{ev.type}\x00{span}\x00{digest}"
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}\x00{seen[key]}")
    return keys


def _registry(aliases: str | Path | Aliases | OrgRegistry | None,
              results: list[Extraction]) -> OrgRegistry:
    """The corpus's organizations. A name that extends another is its unit here, not its
    short form: across outlets, "Volkswagen" is rarely only "Volkswagen Group Components"."""
    if isinstance(aliases, OrgRegistry):
        registry = aliases
    elif isinstance(aliases, (str, Path)):
        registry = OrgRegistry.from_file(aliases, short_forms=False)
    else:
        registry = OrgRegistry(aliases, short_forms=False)
    for result in results:
        registry.learn(result.text)
        registry.add_places(ev.location for ev in result.events if ev.location)
        for ev in result.events:
            for party in ev.parties:
                registry.add(party.name, party.aliases)
    return registry


def _record(uid: int, ev: Event, facts: Facts, names: _Names) -> dict[str, Any]:
    drop: set[str] = set()
    for party in ev.parties:
        drop |= names(party.name)[3]
        drop.update(w for alias in party.aliases for w in _TOKEN.findall(alias.casefold()))
    quantity = amount(_quantity(ev))
    money = amount(field(ev, "value"))
    when = facts.when
    families = sorted({names(p.name)[1] for p in ev.parties} - {""})
    return {
        "unique_id": uid, "type": ev.type, "fams": families, "nf": len(families),
        "pairs": [f"{a}\x1f{b}" for i, a in enumerate(families) for b in families[i + 1:]],
        "lo": when.lo, "hi": when.hi, "md": when.md, "pub": when.published,
        "qv": quantity[0] if quantity else None, "qu": quantity[1] if quantity else None,
        "mv": money[0] if money else None, "mu": money[1] if money else None,
        "words": _words(ev, drop),
    }


# ------------------------------------------------------------------------- linking


def link(
    results: Iterable[Extraction | Failure],
    *,
    aliases: str | Path | Aliases | OrgRegistry | None = None,
    date_window_days: int = DEFAULT_WINDOW_DAYS,
    threshold: float = 0.5,
) -> list[LinkedEvent]:
    """Merge the events that report the same occurrence; every event ends in one result.

    `aliases` is an alias file (JSON or CSV, see `read_alias_file`), a mapping of
    canonical name to aliases (or to `{"aliases": [...], "parent": "Parent"}`), or an
    `OrgRegistry`. Pairs link at a match probability of `threshold` or more. Dates more
    than `date_window_days` apart never link; an event without a date happened within
    `date_window_days` before its article's publication date.
    """
    if date_window_days < 0 or not 0 < threshold < 1:
        raise ValueError(f"need date_window_days >= 0 and 0 < threshold < 1, got "
                         f"{date_window_days} and {threshold}")
    with _collector_paused():
        extractions = [r for r in results if isinstance(r, Extraction)]
        registry = _registry(aliases, extractions)
        members = [(r, ev) for r in extractions for ev in r.events]
        facts = [event_facts(ev, r.published, date_window_days) for r, ev in members]
        names = _Names(registry)
        records = [_record(uid, ev, facts[uid], names) for uid, (_, ev) in enumerate(members)]
        edges = _score(records, date_window_days, threshold) if len(records) > 1 else []
        edges = [e for e in edges if undated_support(e, facts, date_window_days)]
        return _assemble(members, facts, names, edges, date_window_days)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Linking makes a few objects per event and leaves no cycles behind, but each burst
    of them sets off Python's cyclic collector, which walks the caller's whole heap (every
    extraction) again: a fifth of the time for 10,000 events. It resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _score(records: list[dict[str, Any]], window: int,
           threshold: float) -> list[dict[str, Any]]:
    """Splink's scored pairs at or above `threshold`, with the level of each comparison."""
    try:
        import pyarrow as pa
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
        from splink.blocking_rule_library import CustomRule
    except ImportError as exc:
        raise ImportError(
            f"linking needs splink: pip install 'newsie-events[link]' ({exc})") from exc
    schema = pa.schema([("unique_id", pa.int64()), ("type", pa.string()),
                        ("fams", pa.list_(pa.string())), ("nf", pa.int64()),
                        ("pairs", pa.list_(pa.string())), ("lo", pa.int64()),
                        ("hi", pa.int64()), ("md", pa.string()), ("pub", pa.bool_()),
                        ("qv", pa.float64()), ("qu", pa.string()), ("mv", pa.float64()),
                        ("mu", pa.string()), ("words", pa.list_(pa.string()))])
    comparisons: list[Any] = _comparisons(window)
    db = DuckDBAPI()
    table = db.register(pa.Table.from_pylist(records, schema=schema))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        # a link needs two shared organizations, or a report that names only one: pairs
        # that share a single organization and each name another are never formed
        blocking_rules_to_generate_predictions=[
            block_on("type", "pairs", arrays_to_explode=["pairs"]),
            CustomRule("l.type = r.type AND l.fams = r.fams AND (l.nf = 1 OR r.nf = 1)",
                       arrays_to_explode=["fams"])],
        probability_two_random_records_match=PRIOR,
        retain_matching_columns=True,  # with the gamma_ (level) columns for the reason
    )
    linker = Linker(table, settings, log_level=None)
    pairs = linker.inference.predict(threshold_match_probability=threshold)
    return pairs.as_record_list()


def _level(edge: dict[str, Any], column: str, window: int) -> str | None:
    """The label of the level a pair reached on one comparison; None at the null level."""
    for comparison in _comparisons(window):
        if comparison["output_column_name"] == column:
            labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
            gamma = int(edge["gamma_" + column])
            # Splink numbers the levels from the last (ELSE) = 0 up to the first non-null
            return labels[len(labels) - 1 - gamma] if gamma >= 0 else None
    raise KeyError(column)


def _dated(when: When) -> bool:
    return when.lo is not None or when.md is not None


def undated_support(edge: dict[str, Any], facts: list[Facts], window: int) -> bool:
    """A pair may link: both reports say when (an event or publication date), or, without
    that, an amount or quantity agrees or the evidence is worded alike. Two undated reports
    naming the same companies are too often two of their deals."""
    left, right, _ = _ends(edge)
    if _dated(facts[left].when) and _dated(facts[right].when):
        return True
    shared = set(edge["words_l"] or ()) & set(edge["words_r"] or ())
    return _level(edge, "quantity", window) == "same quantity" or (
        _level(edge, "wording", window) == "similar wording"
        and len(shared) >= UNDATED_SHARED_WORDS)


class _Clusters:
    """Reports joined into events, strongest link first, never across a disagreement.

    Splink's `cluster_pairwise_predictions_at_threshold` joins every pair it is given,
    so one undated report that fits two different events would join them; and it does not
    say which link joined each member, which confidence and reason are made of.
    """

    def __init__(self, facts: list[Facts], edges: list[dict[str, Any]], window: int) -> None:
        self.facts, self.window = facts, window
        self.sets: UnionFind[int] = UnionFind(range(len(facts)))
        self.joined: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.near: dict[int, list[tuple[float, int]]] = defaultdict(list)
        self._apart: dict[tuple[int, int], bool] = {}
        for edge in edges:
            left, right, p = _ends(edge)
            self.near[left].append((p, right))
            self.near[right].append((p, left))
        for edge in sorted(edges, key=lambda e: (-e["match_probability"], *_ends(e)[:2])):
            self._join(edge)

    def _join(self, edge: dict[str, Any]) -> None:
        left, right, p = _ends(edge)
        a, b = self.sets.find(left), self.sets.find(right)
        if a == b or self._disagree(a, b) or self._torn(left, b, p) or self._torn(right, a, p):
            return
        root = self.sets.union(a, b)
        self.joined[root] = [*self.joined.pop(a, []), *self.joined.pop(b, []), edge]

    def _disagree(self, a: int, b: int) -> bool:
        """Some report of set `a` and some report of set `b` cannot be one event."""
        for i in self.sets.members(a):
            for j in self.sets.members(b):
                key = (i, j) if i < j else (j, i)
                if key not in self._apart:
                    self._apart[key] = conflict(self.facts[i], self.facts[j],
                                                self.window) is not None
                if self._apart[key]:
                    return True
        return False

    def _torn(self, item: int, target: int, p: float) -> bool:
        """`item` fits another set as well as it fits `target`, and the two sets disagree:
        it cannot tell which event it reports, so it joins neither."""
        own = self.sets.find(item)
        for q, other in self.near[item]:
            if q < p - 1e-9:
                continue
            rival = self.sets.find(other)
            if rival not in (own, target) and not self._disagree(own, rival) and \
                    self._disagree(rival, target):
                return True
        return False


def _ends(edge: dict[str, Any]) -> tuple[int, int, float]:
    return int(edge["unique_id_l"]), int(edge["unique_id_r"]), float(edge["match_probability"])


def _assemble(members: list[tuple[Extraction, Event]], facts: list[Facts],
              names: _Names, edges: list[dict[str, Any]],
              window: int) -> list[LinkedEvent]:
    """The linked events, each with the links that joined it (its weakest: confidence and
    reason)."""
    clusters = _Clusters(facts, edges, window)
    keys = _event_keys(members)
    linked = [_linked([members[i] for i in sorted(ids)], [keys[i] for i in ids], names,
                      clusters.joined.get(root, []), window)
              for root, ids in clusters.sets.groups().items()]
    linked.sort(key=lambda e: (interval(e.date)[0] or math.inf, e.date or "", e.id))
    return linked


def _reason(edge: dict[str, Any], window: int) -> str:
    """The comparison levels of a pair, in words: "same type; same parties; same day"."""
    levels = (_level(edge, c["output_column_name"], window) for c in _comparisons(window))
    return "; ".join(["same type", *(label for label in levels if label is not None)])


def _parties(group: list[tuple[Extraction, Event]], names: _Names) -> list[Party]:
    """One party per organization family: under the name most reports use, with the other
    names (its units' or parent's among them) as aliases."""
    used: dict[str, dict[str, int]] = {}
    roles: dict[str, str | None] = {}
    for _, ev in group:
        for party in ev.parties:
            canonical, family, _, _ = names(party.name)
            counts = used.setdefault(family, {})
            counts[canonical] = counts.get(canonical, 0) + 1
            roles.setdefault(canonical, party.role)
    parties = []
    for counts in used.values():
        name = max(counts, key=lambda n: counts[n])  # the first seen among equals
        others = [a for n in counts for a in (n, *names.registry.aliases(n))]
        parties.append(Party(name=name, role=roles[name],
                             aliases=list(dict.fromkeys(a for a in others if a != name))))
    return parties


def _linked(group: list[tuple[Extraction, Event]], keys: list[str], names: _Names,
            edges: list[dict[str, Any]], window: int) -> LinkedEvent:
    """One linked event; its id is a digest of its events' keys (`_event_keys`), so it is
    the same whatever the input order, and unique."""
    keys = sorted(keys)
    first = group[0][1]
    dates = Counter(ev.date for _, ev in group if ev.date)
    when = min(dates, key=lambda d: (-_precision(d), -dates[d], d)) if dates else None
    weakest = min(edges, key=lambda e: e["match_probability"]) if edges else None
    return LinkedEvent(
        id=hashlib.sha1("\n".join(keys).encode()).hexdigest()[:16],
        type=first.type,
        parties=_parties(group, names),
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
    when = PartialDate.read(value)
    return 0 if when is None or when.year is None else value.count("-") + 1
