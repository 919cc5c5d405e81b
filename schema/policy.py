"""Enforce `@requiresScopes` and `@mask` from the directives themselves, never by hand in resolvers.

Scopes are static per field, so they are decided per operation, not per field: `requirements_of`
reads a field's `@requiresScopes` (and its type's), `schema.execution.PolicedExecution` refuses
from that table with one look-up per field (issue 21). At build time `attach_policy` walks every
type reachable from the roots and attaches one `PolicyExtension` only where a value must be
looked at: `@mask` fields, and a subscription's root field with scopes (graphql-core opens its
stream outside the executor's per-field step). So the SDL is the policy, and a field with no
`@mask` resolves with no wrapper at all. A router's `_entities` checks a type's own
`@requiresScopes` with `require_scopes` before resolving a reference (`schema.federation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from functools import cached_property
from typing import Any, Protocol

from graphql import GraphQLError
from graphql.pyutils import Path
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryContainer, StrawberryObjectDefinition, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.private import is_private
from strawberry.types.union import StrawberryUnion
from strawberry.utils.await_maybe import await_maybe

from schema.directives import Mask, RequiresScopes
from schema.info import Info
from schema.mask_rules import mask_value
from schema.masking import STAFF_KINDS, MaskKind
from schema.paths import dotted
from services.context import RequestContext
from services.errors import public_error

FORBIDDEN = "FORBIDDEN"

ScopeGroups = tuple[tuple[str, ...], ...]  # one directive's argument: outer OR, inner AND
Requirements = list[list[list[str]]]  # one entry per directive that applies: all must hold


class Owned(Protocol):
    """A type with masked fields says whose data it is: the customer whose consent and access rules
    decide whether the caller sees it in clear.

    At once when the object knows (nearly all do: each was made from its owner's record), so a
    masked value is revealed with no coroutine at all; an awaitable only when the owner must be
    loaded first (an `Account` asked before its record is in)."""

    def owner_customer_no(self, info: Info) -> str | Awaitable[str | None] | None: ...


class PolicyExtension(FieldExtension):
    """Refuse without the scopes (before anything loads); mask the value unless the caller may unmask.

    `requirements` holds one entry per directive that applies (the type's, the field's): all must
    hold. Empty on a masked field (the executor has refused it already); only a subscription's
    root field checks here. Scope-only fields stay synchronous; a masked field goes async.
    """

    def __init__(self, requirements: Requirements, mask: MaskKind | None) -> None:
        self.requirements = requirements
        self.mask = mask
        self._staff = mask in STAFF_KINDS  # decided once: an enum member hashes in Python

    @cached_property
    def supports_sync(self) -> bool:
        return self.mask is None

    def _check(self, ctx: RequestContext, info: Info) -> None:
        require_scopes(ctx, self.requirements, info.path)

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(info.context, info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        ctx = info.context
        self._check(ctx, info)
        value = await await_maybe(next_(source, info, **kwargs))
        return await await_maybe(self.reveal(ctx, source, info, value))

    def reveal(self, ctx: RequestContext, source: Any, info: Info, value: Any) -> Any:
        """The resolved `value` as this caller may see it: in clear (each reveal of a customer's value
        audited) or masked. Synchronous unless the owner must be asked (then an awaitable): the
        compiled walk calls it without Strawberry's wrapper (`schema.compiled`)."""
        if self.mask is None or value is None or value == []:
            return value  # nothing shown, nothing to mask or to audit
        if self._staff:  # our own staff's details: a scope, no customer, no audit
            return value if ctx.access.may_see_staff_contact() else mask_value(self.mask, value)
        ask = getattr(source, "owner_customer_no", None)
        if ask is None:  # fail closed: an object that cannot say whose data it is never shows it
            return mask_value(self.mask, value)
        owner = ask(info)
        if owner is None or type(owner) is str:
            return _shown(ctx, info, value, owner, self.mask)
        return _shown_later(ctx, info, value, owner, self.mask)


def require_scopes(ctx: RequestContext, requirements: Sequence[list[list[str]]], at: Path) -> None:
    """FORBIDDEN, audited at `at`, unless the caller satisfies every requirement (one per directive)."""
    principal = ctx.access.principal
    for any_of in requirements:
        if principal is None or not principal.holds(any_of):
            raise refusal(ctx, " or ".join(" and ".join(group) for group in any_of), at)


def refusal(ctx: RequestContext, needs: str, at: Path) -> GraphQLError:
    """The FORBIDDEN error for a field at `at` whose caller lacks `needs`, audited once here."""
    ctx.audit.refused("field", ".".join(map(str, at.as_list())), f"missing scope {needs}")
    return public_error(f"not allowed: needs scope {needs}", FORBIDDEN)


def requirements_of(definition: StrawberryObjectDefinition, field: StrawberryField) -> Requirements:
    """What a field needs: its type's `@requiresScopes` and its own, one entry per directive."""
    found = _scope_groups(definition.directives or ()) + _scope_groups(field.directives)
    return [[list(group) for group in any_of] for any_of in found]


def type_requirements(cls: type) -> list[list[list[str]]]:
    """A type's own `@requiresScopes`: what a router's `_entities` must hold to get one at all."""
    found = _scope_groups(get_object_definition(cls, strict=True).directives or ())
    return [[list(group) for group in any_of] for any_of in found]


def _shown(ctx: RequestContext, info: Info, value: Any, owner: str | None, mask: MaskKind) -> Any:
    """`value` in clear when the caller may unmask its owner's data (the reveal audited), else masked."""
    if owner is not None and ctx.access.may_unmask(owner):
        if ctx.on_unmask is not None:
            ctx.on_unmask(owner, dotted(info.path, ctx.spelled_paths))
        return value
    return mask_value(mask, value)


async def _shown_later(
    ctx: RequestContext, info: Info, value: Any, owner: Awaitable[str | None], mask: MaskKind
) -> Any:
    return _shown(ctx, info, value, await owner, mask)


def _scope_groups(directives: Iterable[object]) -> list[ScopeGroups]:
    return [tuple(tuple(group) for group in d.scopes) for d in directives if isinstance(d, RequiresScopes)]


def _mask_kind(directives: Iterable[object]) -> MaskKind | None:
    kinds = [d.kind for d in directives if isinstance(d, Mask)]
    if len(kinds) > 1:
        raise TypeError(f"more than one @mask on one field: {kinds}")
    return kinds[0] if kinds else None


def _object_types(annotation: object) -> list[StrawberryObjectDefinition]:
    """The object types a field's type names, through lists, optionals, lazy types and unions."""
    while True:
        if isinstance(annotation, StrawberryContainer):
            annotation = annotation.of_type
        elif isinstance(annotation, LazyType):
            annotation = annotation.resolve_type()
        else:
            break
    if isinstance(annotation, StrawberryUnion):
        return [d for member in annotation.types for d in _object_types(member)]
    found = get_object_definition(annotation)
    return [found] if found is not None else []


def _apply(definition: StrawberryObjectDefinition, field: StrawberryField) -> bool:
    """Attach the extension where a value must be looked at; whether the field is policed at all."""
    requirements = requirements_of(definition, field)
    kind = _mask_kind(field.directives)
    if (
        kind is not None
        and kind not in STAFF_KINDS
        and not callable(getattr(definition.origin, "owner_customer_no", None))
    ):
        raise TypeError(f"{definition.name}.{field.python_name} has @mask but no owner_customer_no")
    # Replace, not append: building the schema twice must not stack the checks.
    kept = [e for e in field.extensions if not isinstance(e, PolicyExtension)]
    # The executor refuses by scope before a resolver runs, but not a subscription's `subscribe`.
    checked = requirements if field.is_subscription else []
    field.extensions = [*kept, PolicyExtension(checked, kind)] if checked or kind else kept
    return bool(requirements or kind)


def attach_policy(*roots: type) -> list[str]:
    """Attach `PolicyExtension` where it is needed (module doc); returns the coordinates
    (`Type.field`) of every policed field reachable from `roots`, masked or scoped, so a test can
    see what is enforced."""
    names = NameConverter()
    seen: set[str] = set()
    pending = [get_object_definition(root, strict=True) for root in roots]
    policed: list[str] = []
    while pending:
        definition = pending.pop()
        if definition.name in seen:
            continue
        seen.add(definition.name)
        for field in definition.fields:
            if is_private(field.type):
                continue  # not in the schema: strawberry drops it at conversion
            pending.extend(_object_types(field.type))
            if _apply(definition, field):
                policed.append(f"{definition.name}.{names.from_field(field)}")
    return sorted(policed)
