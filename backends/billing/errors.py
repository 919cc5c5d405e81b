"""The 营收 system's error codes to our error tree: "no" is a rejection, "broken" is unavailability.

Only the codes its manual lists are rejections; anything else (including codes we have never
seen) counts as the system failing, so a new failure mode trips the breaker rather than
being shown to an agent as if the customer had done something wrong.
"""

from __future__ import annotations

from backends.billing.row import BACKEND
from backends.billing.wire import Fault
from infra.errors import BackendError, BackendServerError, InvalidRequest, NotFound, TemporarilyRefused

NOT_FOUND = "1001"  # 户号不存在
BAD_REQUEST = "1002"  # 参数错误
SETTLEMENT = "2001"  # 日结期间禁止写操作
BUSY = "9999"  # 系统繁忙 / 系统异常


class SettlementInProgress(TemporarilyRefused):
    """2001: the ledger is locked for the nightly 日结 (23:30-00:30 Shanghai); retry after 00:30.

    Only writes are refused, so only write operations can meet it. The write that meets it sets
    `retry_after_s`: when billing takes writes again.
    """


def error_for(op: str, fault: Fault) -> BackendError:
    detail = fault.info or fault.message or "no detail"
    message = f"{op}: {fault.code or fault.faultcode or 'fault'} {detail}"
    if fault.code == NOT_FOUND:
        return NotFound(BACKEND, message, vendor_code=fault.code)
    if fault.code == BAD_REQUEST:
        return InvalidRequest(BACKEND, message, vendor_code=fault.code)
    if fault.code == SETTLEMENT:
        return SettlementInProgress(
            BACKEND,
            f"{message} (writes refused during 日结 23:30-00:30, retry after 00:30)",
            vendor_code=fault.code,
        )
    return BackendServerError(BACKEND, message, vendor_code=fault.code)
