"""The demo company's segment worksheet 市场细分作业单 (§4.7): a few next actions, so the page
shows what people do with it. Built after the value snapshots, through the service: per product
line one action about the line, one about its best customer and one about its worst (the
suggestion taken over), and one of them already done.
"""

from __future__ import annotations

import datetime as dt

from kehu.accounts.models import Role, User
from kehu.customers.models import Customer
from kehu.value.models import SegmentAction
from kehu.value.segments import segment_worksheet
from kehu.value.selectors import value_snapshot_latest
from kehu.value.services_segments import segment_action_complete, segment_action_record

# Demo data (what people typed), not interface text.
LINE_ACTIONS = (
    "季度产品线复盘：梳理亏损客户名单，与区域经理逐一确定保留或放弃",
    "修订本产品线的小单收费与折扣政策，报总经理审批",
    "与财务一起复核本产品线赊销客户的信用额度和账期",
    "为本产品线的核心客户制定年度合作计划",
)
BEST_ACTION = "拜访客户高层，洽谈年度战略合作协议（优先供货、联合促销）"
WORST_ACTIONS = {
    "loss": "与客户重新谈判价格和条款（小单收费、取消特殊服务），谈不拢则逐步退出",
    "below_cost": "复核该客户在本产品线的报价和折扣，停止低于成本的报价",
    "late": "缩短账期、降低信用额度，逾期未清前改为款到发货",
    "complaints": "召开投诉分析会，明确该客户付费的服务范围",
    "returns": "查明退货原因，与客户约定退货条件",
}
LINES = 6


def _first(role: str) -> User | None:
    return User.objects.filter(role=role, is_active=True).order_by("pk").first()


def demo_segment_actions_build(*, today: dt.date) -> int:
    """Record the demo's next actions on the newest value snapshot's worksheet; returns how
    many. Nothing when there is no snapshot or when there are actions already."""
    snapshot = value_snapshot_latest()
    boss = _first(Role.TOP_MANAGEMENT)
    finance = _first(Role.FINANCE) or boss
    if snapshot is None or boss is None or finance is None or SegmentAction.objects.exists():
        return 0
    worksheet = segment_worksheet(user=None, snapshot=snapshot)
    segments = [segment for segment in worksheet.segments if segment.customer_count][:LINES]
    owners = dict(
        Customer.objects.filter(
            pk__in=[row.customer_id for s in segments for row in s.best[:1] + s.worst[:1]]
        ).values_list("pk", "owner_id")
    )
    recorded = []
    for index, segment in enumerate(segments):
        recorded.append(
            segment_action_record(
                actor=boss,
                line_id=segment.line_id,
                text=LINE_ACTIONS[index % len(LINE_ACTIONS)],
                owner_id=boss.pk if index % 2 else finance.pk,
                due_on=today + dt.timedelta(days=14 + 7 * index),
                today=today,
            )
        )
        for row, text in (
            *((best, BEST_ACTION) for best in segment.best[:1]),
            *((worst, WORST_ACTIONS[worst.suggestion_key]) for worst in segment.worst[:1]),
        ):
            owner_id = owners.get(row.customer_id) or boss.pk
            recorded.append(
                segment_action_record(
                    actor=boss if row.standing == "best" else finance,
                    line_id=segment.line_id,
                    customer_id=row.customer_id,
                    text=text,
                    reason=row.suggestion_key,
                    owner_id=owner_id,
                    due_on=today + dt.timedelta(days=7 + 5 * index),
                    today=today,
                )
            )
    if recorded:
        segment_action_complete(actor=boss, action_id=recorded[-1].pk)
    return len(recorded)
