"""The intent and slot codes of ../shared/docs/taxonomy.md, as constants.

These codes are the project's public vocabulary (tellers' screens, the JSON
contract, stored cases). The catalog validator checks YAML files against
them, so a typo in a product team's file is caught at start-up, not in a
teller's queue.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

OUT_OF_SCOPE: Final = "out_of_scope"

#: Intent code → Chinese display name, in the order of taxonomy.md.
INTENT_NAMES: Final = MappingProxyType(
    {
        "transfer": "转账汇款",
        "balance_inquiry": "余额查询",
        "transaction_history": "交易明细",
        "time_deposit": "定期存款",
        "password_reset": "密码重置",
        "card_loss": "挂失",
        "limit_adjustment": "限额调整",
        "pension_inquiry": "养老金查询",
        "card_activation": "卡片激活",
        "mobile_banking_help": "手机银行指导",
        "report_fraud": "报告诈骗",
        "speak_to_teller": "转人工",
        OUT_OF_SCOPE: "其他",
    }
)

#: Every intent the shipped catalog must cover (more may be added, none renamed).
INTENT_CODES: Final[tuple[str, ...]] = tuple(INTENT_NAMES)

#: Slot code → Chinese name.
SLOT_NAMES: Final = MappingProxyType(
    {
        "amount": "金额",
        "payee_name": "收款人姓名",
        "payee_relation": "收款人关系",
        "payee_account": "收款账号",
        "payee_bank": "收款银行",
        "term_months": "存期（月）",
        "medium": "介质",
    }
)

SLOT_CODES: Final[tuple[str, ...]] = tuple(SLOT_NAMES)

#: The values of the ``medium`` slot.
MEDIUM_VALUES: Final[tuple[str, ...]] = ("card", "passbook", "mobile_banking")

#: Medium value → how tellers and callers say it.
MEDIUM_NAMES: Final = MappingProxyType(
    {"card": "银行卡", "passbook": "存折", "mobile_banking": "手机银行"}
)
