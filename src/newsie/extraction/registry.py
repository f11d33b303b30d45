"""What each event type is, decided in one place: read from its class, checked once.

A type is a subclass of `newsie.Event` (its docstring says how to write one). `spec_of`
reads a class into an `EventSpec`: its roles, details, people field, words and examples.
The pipeline never names a type: it reads these specs. The prompt lists their definitions
and examples, the wire schema asks for their roles, grounding checks their words,
normalization types each field by its kind, and the spec builds the public event.

A bad definition fails here, at registration, with a `TypeDefinitionError` that names the
type and the field, never later in the middle of a batch.

Types come from three places: the built-in ones, packages that register theirs under the
entry point group `newsie.event_types`, and `types=` (classes, "module:Name" paths, names).
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..core.errors import TypeDefinitionError, UnknownTypeError
from ..events import (
    BUILTIN_EVENTS,
    Event,
    Example,
    Kind,
    Money,
    Quantity,
    UnknownEvent,
    _unwrap,
    field_kind,
    own_fields,
    set_class_lookup,
    type_name,
)

#: Packages register event types under this entry point group, each naming an `Event`
#: subclass (or a list of them): `investment = "newsie_investment:Investment"`.
ENTRY_POINT_GROUP = "newsie.event_types"

#: The role of a type that declares no `Org` field: its organizations, all alike.
PARTIES = "parties"
#: Field names the model's answer already uses for every type.
_WIRE_FIELDS = ("type", "sent", "people", "date", "location")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

#: The Python shapes each kind of field may have: ('one', str) is `str | None`.
_SHAPES: dict[Kind, tuple[tuple[str, type], ...]] = {
    Kind.ORG: (("one", str), ("many", str)),
    Kind.PERSON: (("many", str),),
    Kind.PLACE: (("one", str),),
    Kind.DATE: (("one", str),),
    Kind.PHRASE: (("one", str), ("many", str)),
    Kind.QUANTITY: (("one", Quantity),),
    Kind.MONEY: (("one", Money),),
}
_SHAPE_WORDS: dict[tuple[str, type], str] = {("one", str): "str | None", ("many", str): "list[str]",
                ("one", Quantity): "Quantity | None", ("one", Money): "Money | None"}

TypesArg = str | type[Event] | Iterable[str | type[Event]] | None


@dataclass(frozen=True, eq=False)
class EventSpec:
    """One event type, as the pipeline uses it.

    `roles` are the organization fields the model fills by name (`visitor`, `host`...), or
    `parties` for a type whose organizations are all alike. `details` are its other fields
    (`product`, `quantity`...), which the model copies from the text. `kinds` says what
    each of them holds; `multiple`, which take a list. `lemmas` are the words (as spaCy
    lemmas) without which a sentence does not state an event of this type. `summary`
    writes the one-line headline from the grounded values.
    """

    name: str
    model: type[Event]
    definition: str
    roles: tuple[str, ...]
    details: tuple[str, ...]
    lemmas: tuple[str, ...]
    summary: Callable[[Mapping[str, Any]], str]
    #: The model field that lists the names of the event's people, if any.
    people_field: str | None = None
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    multiple: frozenset[str] = frozenset()
    #: Worked examples given as data: `examples_for` merges them across the chosen types.
    examples: tuple[Example, ...] = ()
    #: Worked examples rendered from the type's template, shown as they are.
    example_texts: tuple[str, ...] = ()

    def many(self, name: str) -> bool:
        """Does this field (a role or a detail) take a list?"""
        return name in self.multiple

    def build(self, values: Mapping[str, Any], **common: Any) -> Event:
        """The public event: its own fields from `values` (grounded and typed; roles as
        canonical names), its summary from the spec, and `common` (`parties`, `people`,
        `date`, `location`, `evidence`, `grounded`, `warnings`)."""
        own = {k: v for k, v in values.items() if k in own_fields(self.model)}
        return self.model(summary=self.summary(values), **common, **own)

    def describe(self) -> dict[str, Any]:
        """What a prompt template gets for this type."""
        return {"name": self.name, "definition": self.definition, "roles": list(self.roles),
                "details": list(self.details),
                "kinds": {k: v.value for k, v in self.kinds.items()}}


# ---------------------------------------------------------------- reading a class


def _label(cls: Any) -> str:
    name = type_name(cls) if isinstance(cls, type) and issubclass(cls, Event) else None
    qualname = getattr(cls, "__qualname__", repr(cls))
    return f"event type {qualname}" + (f" ({name!r})" if name else "")


def _fail(cls: Any, where: str, message: str) -> TypeDefinitionError:
    return TypeDefinitionError(f"{_label(cls)}, {where}: {message}")


@functools.cache
def spec_of(cls: type[Event]) -> EventSpec:
    """The spec of an `Event` subclass, or a `TypeDefinitionError` naming type and field."""
    if not (isinstance(cls, type) and issubclass(cls, Event)) or cls is UnknownEvent:
        raise TypeDefinitionError(f"{cls!r} is not a subclass of newsie.Event")
    name = type_name(cls)
    if name is None:
        raise _fail(cls, "field 'type'", "fix the name: type: Literal['name'] = 'name'")
    if not _NAME.fullmatch(name):
        raise _fail(cls, "field 'type'", f"{name!r} is not a name: use a-z, 0-9 and _ "
                    "(40 at most), starting with a letter")
    for attribute in ("definition", "lemmas", "examples"):
        if attribute in cls.model_fields:
            raise _fail(cls, f"{attribute!r}", f"a class attribute, not a field: write "
                        f"`{attribute} = ...` with no annotation")
    definition = cls.definition.strip() if isinstance(cls.definition, str) else ""
    if not definition:
        raise _fail(cls, "'definition'", "missing: say in one line what the event is")
    lemmas = _lemmas(cls)
    for base_field, info in Event.model_fields.items():
        if base_field != "type" and cls.model_fields[base_field].annotation != info.annotation:
            raise _fail(cls, f"field {base_field!r}", "every event has this field; give "
                        "yours another name")
    kinds: dict[str, Kind] = {}
    multiple: set[str] = set()
    for fname, info in own_fields(cls).items():
        kinds[fname] = _kind(cls, fname, info)
        if _unwrap(info.annotation)[0] == "many":
            multiple.add(fname)
    people = [f for f, k in kinds.items() if k is Kind.PERSON]
    if len(people) > 1:
        raise _fail(cls, f"field {people[1]!r}", f"a type has one people field ({people[0]!r})")
    roles = tuple(f for f, k in kinds.items() if k is Kind.ORG)
    if not roles:
        roles = (PARTIES,)
        kinds = {PARTIES: Kind.ORG, **kinds}
        multiple.add(PARTIES)
    details = tuple(f for f, k in kinds.items() if k not in (Kind.ORG, Kind.PERSON))
    examples, texts = _examples(cls, name, roles, details, definition)
    return EventSpec(
        name=name, model=cls, definition=definition, roles=roles, details=details,
        lemmas=lemmas, summary=cls.headline, people_field=people[0] if people else None,
        kinds=kinds, multiple=frozenset(multiple), examples=examples, example_texts=texts,
    )


def _lemmas(cls: type[Event]) -> tuple[str, ...]:
    lemmas = cls.lemmas
    if isinstance(lemmas, str) or not lemmas:
        raise _fail(cls, "'lemmas'", "give the words that state this event, as a list "
                    "(('invest', 'stake')): an event whose evidence uses none is dropped")
    for word in lemmas:
        if not isinstance(word, str) or not word.strip() or " " in word.strip():
            raise _fail(cls, "'lemmas'", f"{word!r} is not one word")
    return tuple(w.strip().casefold() for w in lemmas)


def _kind(cls: type[Event], fname: str, info: Any) -> Kind:
    where = f"field {fname!r}"
    if fname in _WIRE_FIELDS:
        raise _fail(cls, where, "the model's answer uses this name for every type")
    kind = field_kind(info)
    if kind is None:
        raise _fail(cls, where, f"cannot be grounded: {_words(info.annotation)} says nothing "
                    "about what it holds; annotate it, as Annotated[str | None, newsie.Org] "
                    "(or newsie.People, Place, When, Phrase), or type it Quantity or Money")
    shape = _unwrap(info.annotation)
    if shape not in _SHAPES[kind]:
        allowed = " or ".join(_SHAPE_WORDS[s] for s in _SHAPES[kind])
        article = "an" if kind.value[0] in "aeiou" else "a"
        raise _fail(cls, where, f"cannot be grounded: {article} {kind.value} field is "
                    f"{allowed}, not {_words(info.annotation)}")
    if info.is_required():
        default = "Field(default_factory=list)" if shape[0] == "many" else "None"
        raise _fail(cls, where, f"needs a default ({default}): the text may not say it")
    return kind


def _words(annotation: Any) -> str:
    """`str | None` as written, not `<class 'str'>`."""
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _examples(cls: type[Event], name: str, roles: tuple[str, ...], details: tuple[str, ...],
              definition: str) -> tuple[tuple[Example, ...], tuple[str, ...]]:
    """Data examples checked against the type, or its template rendered once."""
    given = cls.examples
    if isinstance(given, Path):
        try:
            given = given.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(cls, "'examples'", f"cannot read the template: {exc}") from exc
    if isinstance(given, str):
        return (), (_render(cls, given, name=name, definition=definition, roles=list(roles),
                            details=list(details)),)
    items: Sequence[object] = [given] if isinstance(given, Example) else given
    examples = [e for e in items if isinstance(e, Example)]
    if not isinstance(items, Sequence) or len(examples) != len(items):
        raise _fail(cls, "'examples'", "give a newsie.Example or a list of them, or a Jinja "
                    "template (a string, or a Path to a file)")
    allowed = {*_WIRE_FIELDS, *roles, *details}
    return tuple(_check_example(cls, i, e, name, allowed)
                 for i, e in enumerate(examples, start=1)), ()


def _render(cls: type[Event], source: str, **variables: Any) -> str:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        text = env.from_string(source).render(type=variables.pop("name"), **variables).strip()
    except jinja2.TemplateError as exc:
        raise _fail(cls, "'examples'", f"the template does not render: {exc}") from exc
    if not text:
        raise _fail(cls, "'examples'", "the template renders to nothing")
    return text


def _check_example(cls: type[Event], number: int, example: Example, name: str,
                   allowed: set[str]) -> Example:
    """The example with each event's `type` filled in and first, or an error that says
    what in it the model would learn wrong: a field the type lacks, a sentence number
    that does not exist, a value its sentences do not say."""
    where = f"'examples' (example {number})"
    text = " ".join(example.sentences).casefold()
    events: list[dict[str, Any]] = []
    for event in example.events:
        kind = event.get("type", name)
        if not isinstance(kind, str):
            raise _fail(cls, where, f"type {kind!r} is not a name")
        unknown = sorted(set(event) - allowed) if kind == name else []
        if unknown:
            raise _fail(cls, where, f"{unknown[0]!r} is not a field of {name} "
                        f"(it has {', '.join(sorted(allowed - {'type'}))})")
        sent = event.get("sent", [])
        if not isinstance(sent, list) or not all(
                isinstance(n, int) and 1 <= n <= len(example.sentences) for n in sent):
            raise _fail(cls, where, f"sent {sent!r}: the example has sentences "
                        f"1 to {len(example.sentences)}")
        for key, value in event.items():
            for v in value if isinstance(value, list) else [value]:
                if key not in ("type", "sent") and (
                        not isinstance(v, str) or v.casefold() not in text):
                    raise _fail(cls, where, f"{key} {v!r} is not in its sentences")
        events.append({"type": kind, **{k: v for k, v in event.items() if k != "type"}})
    return Example(sentences=example.sentences, events=events)


def examples_for(specs: Iterable[EventSpec]) -> list[str]:
    """The prompt's worked examples for the chosen types, as 'Article: ...\\nAnswer: ...'.

    Each example article appears once, however many chosen types list it, and its answer
    keeps only the chosen types' events (with `types=["meeting"]`, an order in it is a
    sentence to skip). Examples with events come first, those without after them.
    """
    specs = list(specs)
    chosen = {s.name for s in specs}
    merged: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for spec in specs:
        for example in spec.examples:
            events = merged.setdefault(tuple(example.sentences), [])
            events += [dict(e) for e in example.events
                       if e["type"] in chosen and e not in events]
    data = [Example(sentences=s, events=e) for s, e in merged.items()]
    texts = list(dict.fromkeys(t for spec in specs for t in spec.example_texts))
    return ([e.render() for e in data if e.events] + texts
            + [e.render() for e in data if not e.events])


BUILTIN: tuple[EventSpec, ...] = tuple(spec_of(cls) for cls in BUILTIN_EVENTS)
SPECS: dict[str, EventSpec] = {spec.name: spec for spec in BUILTIN}


# ---------------------------------------------------------------------- registry

_lock = threading.RLock()
_registry: dict[str, EventSpec] | None = None
#: Classes given by argument, by name: a result read back later finds them here.
_given: dict[str, type[Event]] = {}


def registered() -> dict[str, EventSpec]:
    """The built-in types, then those installed packages register (loaded once)."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = _load_entry_points(dict(SPECS))
        return dict(_registry)


def reload() -> dict[str, EventSpec]:
    """Read the entry points again (after installing a package into a running process)."""
    global _registry
    with _lock:
        _registry = None
        return registered()


def _load_entry_points(specs: dict[str, EventSpec]) -> dict[str, EventSpec]:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        package = dist.name if dist is not None else ep.value.partition(":")[0]
        try:
            loaded = ep.load()
            classes = loaded if isinstance(loaded, (list, tuple)) else [loaded]
            found = [spec_of(cls) for cls in classes]
            for spec in found:
                _refuse_clash(spec, specs)
        except Exception as exc:  # someone else's package must not stop newsie
            warnings.warn(
                f"newsie: skipped the event types of package {package!r} (entry point "
                f"{ep.name} = {ep.value}): {type(exc).__name__}: {exc}",
                RuntimeWarning, stacklevel=4,
            )
            continue
        specs.update((spec.name, spec) for spec in found)
    return specs


def _refuse_clash(spec: EventSpec, known: Mapping[str, EventSpec]) -> None:
    other = known.get(spec.name)
    if other is None or other.model is spec.model:
        return
    if other.name in SPECS and other is SPECS[other.name]:
        raise _fail(spec.model, "field 'type'", f"{spec.name!r} is a built-in type's name")
    raise _fail(spec.model, "field 'type'", f"duplicate name: {spec.name!r} is already "
                f"{other.model.__module__}.{other.model.__qualname__}")


def import_type(path: str) -> type[Event]:
    """The class at 'package.module:Name'."""
    module, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module.strip())
        for part in qualname.strip().split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise UnknownTypeError(f"cannot import event type {path!r}: {exc}") from exc
    if not (isinstance(obj, type) and issubclass(obj, Event)):
        raise UnknownTypeError(f"{path!r} is not a subclass of newsie.Event")
    return obj


def resolve_types(types: TypesArg = None) -> dict[str, EventSpec]:
    """The types to extract, by name, in order.

    None: every registered type. Names ("order") choose among the registered types and
    those given; classes (or "module:Name" paths) add theirs. So `["order"]` reads only
    orders, `[Investment]` reads every registered type and investments, and
    `["order", Investment]` orders and investments.
    """
    known = registered()
    if types is None:
        return known
    items: list[str | type[Event]] = (
        [types] if isinstance(types, (str, type)) else list(types))
    names: list[str] = []
    added: dict[str, EventSpec] = {}
    for item in items:
        if isinstance(item, str) and ":" not in item:
            names.append(item.strip())
            continue
        if not isinstance(item, (str, type)):
            raise TypeDefinitionError(f"{item!r} is not an event type: give a subclass of "
                                      "newsie.Event, a type's name or 'module:Name'")
        spec = spec_of(import_type(item) if isinstance(item, str) else item)
        _refuse_clash(spec, {**known, **added})
        added[spec.name] = spec
    pool = {**known, **added}
    unknown = [n for n in names if n not in pool]
    if unknown:
        raise UnknownTypeError(f"unknown event type {unknown[0]!r}; known types: "
                               f"{', '.join(pool)} (a type of your own: module:Name)")
    if not names and not added:
        raise UnknownTypeError("types= names no event type")
    with _lock:
        _given.update((name, spec.model) for name, spec in added.items())
    if not names:
        return pool
    return {**{n: pool[n] for n in names}, **added}


def portable(types: TypesArg) -> list[str] | None:
    """`types=` as names and "module:Name" paths, to send to other processes (Ray actors
    import the classes there). A class defined in `__main__` or in a function cannot go."""
    if types is None:
        return None
    items = [types] if isinstance(types, (str, type)) else list(types)
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        path = f"{item.__module__}:{item.__qualname__}"
        if item.__module__ == "__main__" or "<locals>" in item.__qualname__ or (
                _importable(path) is not item):
            raise UnknownTypeError(
                f"{item.__qualname__} cannot be sent to other processes by its import path "
                f"{path!r}: define it in a module they can import")
        out.append(path)
    return out


def _importable(path: str) -> type[Event] | None:
    try:
        return import_type(path)
    except UnknownTypeError:
        return None


def event_class(name: object) -> type[Event]:
    """The class to read a stored event of type `name` as: a registered type, one given by
    argument, any subclass defined in this process, or else `UnknownEvent`."""
    if not isinstance(name, str):
        return UnknownEvent
    spec = registered().get(name)
    if spec is not None:
        return spec.model
    with _lock:
        given = _given.get(name)
    if given is not None:
        return given
    defined = [c for c in _subclasses(Event) if type_name(c) == name]
    return defined[-1] if defined else UnknownEvent


def _subclasses(cls: type[Event]) -> list[type[Event]]:
    out: list[type[Event]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


set_class_lookup(event_class)
