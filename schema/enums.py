"""The domain's coded values as GraphQL enums: one definition, shared with the backends."""

from __future__ import annotations

import strawberry

from domain import enums as d

_UNKNOWN = " UNKNOWN means a code our tables do not know yet (it is logged)."

AccountStatus = strawberry.enum(d.AccountStatus, description="户状态." + _UNKNOWN)
WaterUseType = strawberry.enum(d.WaterUseType, description="用水性质." + _UNKNOWN)
PaymentMethod = strawberry.enum(d.PaymentMethod, description="收费方式." + _UNKNOWN)
MeterReadStatus = strawberry.enum(d.MeterReadStatus, description="抄见状态." + _UNKNOWN)
BillStatus = strawberry.enum(d.BillStatus, description="销账状态." + _UNKNOWN)
DirectDebitStatus = strawberry.enum(d.DirectDebitStatus, description="代扣签约状态." + _UNKNOWN)
CustomerKind = strawberry.enum(d.CustomerKind, description=_UNKNOWN.strip())
InteractionChannel = strawberry.enum(d.InteractionChannel, description=_UNKNOWN.strip())
InteractionType = strawberry.enum(d.InteractionType, description=_UNKNOWN.strip())
InteractionOutcome = strawberry.enum(d.InteractionOutcome, description=_UNKNOWN.strip())
TicketStatus = strawberry.enum(d.TicketStatus, description="工单状态." + _UNKNOWN)
TicketCategory = strawberry.enum(d.TicketCategory, description=_UNKNOWN.strip())
TicketPriority = strawberry.enum(d.TicketPriority, description=_UNKNOWN.strip())
PipeMaterial = strawberry.enum(d.PipeMaterial, description="管材." + _UNKNOWN)
PipeStatus = strawberry.enum(d.PipeStatus, description=_UNKNOWN.strip())
OutageKind = strawberry.enum(d.OutageKind, description=_UNKNOWN.strip())
OutageStatus = strawberry.enum(d.OutageStatus, description=_UNKNOWN.strip())
MainKind = strawberry.enum(d.MainKind, description="管线类别." + _UNKNOWN)
ValveBoundary = strawberry.enum(d.ValveBoundary, description="分区边界." + _UNKNOWN)
SensitiveCategory = strawberry.enum(
    d.SensitiveCategory, description="重点保障类别: why a customer must be warned first." + _UNKNOWN
)
