"""The default scorecard template that ships with Kehu (domain §5.2): 100 points, 20 indicators
in 5 groups, 30 points financial and 70 non-financial; AAA ≥ 90, AA ≥ 80, A ≥ 70, B ≥ 60, C
below. A company edits it by creating a new version (services/ratings.py).

Answers entered in the survey (`source` survey_choice) are keyed by the indicator's `measure`
in CreditSurvey.facts, with English slugs as answers; each table mapping carries `labels`
(Chinese and English) for the survey form.

The "bad debts and disputes" indicator (measure `bad_debts_and_disputes`) counts, over the
three years up to the rating date, the bad debts written off in Kehu's ledger and not reversed
(computed) PLUS the disputes entered in the survey as a whole number under
CreditSurvey.facts["disputes"] (lawsuits, arbitration, serious quarrels over payment). When the
survey gives no disputes count, the item is shown as missing and scores the lower of its
missing points and what the write-offs alone would score: not answering never scores better
than answering.
"""

from __future__ import annotations

from typing import Any

DEFAULT_TEMPLATE_CODE = "default"

# Answers of the survey's judgement questions: five steps, best first.
FIVE_STEPS = {
    "excellent": {"zh": "优", "en": "Excellent"},
    "good": {"zh": "良", "en": "Good"},
    "fair": {"zh": "中", "en": "Fair"},
    "poor": {"zh": "较差", "en": "Poor"},
    "bad": {"zh": "差", "en": "Bad"},
}
FIVE_STEP_POINTS = {
    "5": {"excellent": "5", "good": "4", "fair": "3", "poor": "1.5", "bad": "0"},
    "4": {"excellent": "4", "good": "3", "fair": "2", "poor": "1", "bad": "0"},
    "3": {"excellent": "3", "good": "2.5", "fair": "1.5", "poor": "0.5", "bad": "0"},
}


def _five_steps(points: str, labels: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "kind": "table",
        "choices": dict(FIVE_STEP_POINTS[points]),
        "labels": labels or FIVE_STEPS,
    }


def _choice(
    code: str, name: str, name_en: str, points: str, missing: str, **mapping: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "name_en": name_en,
        "points": points,
        "source": "survey_choice",
        "measure": code,
        "is_financial": False,
        "mapping": mapping.get("mapping") or _five_steps(points),
        "missing_points": missing,
    }


def _number(
    code: str,
    name: str,
    name_en: str,
    points: str,
    missing: str,
    *,
    source: str,
    mapping: dict[str, Any],
    is_financial: bool,
    measure: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "name_en": name_en,
        "points": points,
        "source": source,
        "measure": measure or code,
        "is_financial": is_financial,
        "mapping": mapping,
        "missing_points": missing,
    }


OWNERSHIP_SIZE = {
    "kind": "table",
    "choices": {
        "large": "4",
        "medium": "3",
        "small": "2",
        "micro": "1",
        "individual": "0.5",
    },
    "labels": {
        "large": {
            "zh": "大型企业（国有、外资或上市）",
            "en": "Large (state-owned, foreign or listed)",
        },
        "medium": {"zh": "中型企业", "en": "Medium-sized company"},
        "small": {"zh": "小型企业", "en": "Small company"},
        "micro": {"zh": "微型企业", "en": "Micro company"},
        "individual": {"zh": "个体户", "en": "Sole trader"},
    },
}

INDUSTRY_STATE = {
    "kind": "table",
    "choices": {"growing": "3", "stable": "2", "declining": "1", "in_crisis": "0"},
    "labels": {
        "growing": {"zh": "成长", "en": "Growing"},
        "stable": {"zh": "稳定", "en": "Stable"},
        "declining": {"zh": "衰退", "en": "Declining"},
        "in_crisis": {"zh": "危机", "en": "In crisis"},
    },
}

DEFAULT_TEMPLATE: dict[str, Any] = {
    "code": DEFAULT_TEMPLATE_CODE,
    "name": "信用等级评估方案",
    "notes": "Kehu's default template (domain §5.2).",
    "total_points": "100",
    "financial_points": "30",
    "grade_bands": {"AAA": "90", "AA": "80", "A": "70", "B": "60"},
    "groups": [
        {
            "code": "character",
            "name": "品质特性",
            "name_en": "Character",
            "points": "25",
            "indicators": [
                _choice(
                    "principal_credit", "负责人信用", "Credit of the person in charge", "5", "1.5"
                ),
                _choice(
                    "ownership_size",
                    "企业性质与规模",
                    "Ownership and size",
                    "4",
                    "1.2",
                    mapping=OWNERSHIP_SIZE,
                ),
                _number(
                    "years_trading",
                    "合作年限",
                    "Years trading with us",
                    "4",
                    "0",
                    source="computed",
                    is_financial=False,
                    # Years since the first purchase (or the first invoice).
                    mapping={
                        "kind": "bands",
                        "bands": [["0", "0"], ["1", "1"], ["2", "2"], ["3", "3"], ["5", "4"]],
                    },
                ),
                _choice("bank_record", "银行信用记录", "Bank credit record", "4", "1.2"),
                _choice("peer_credit", "同行信誉", "Credit among peers", "4", "1.2"),
                _choice(
                    "supplier_employee_reports",
                    "供应商与员工评价",
                    "Suppliers' and employees' reports",
                    "4",
                    "1.2",
                ),
            ],
        },
        {
            "code": "payment_record",
            "name": "信用履约率",
            "name_en": "Payment record",
            "points": "30",
            "indicators": [
                _number(
                    "on_time_share",
                    "按期付款率",
                    "Share of invoices paid by the due date",
                    "12",
                    "6",
                    source="computed",
                    is_financial=False,
                    # Share of the amount due in the last four quarters paid by its due date.
                    mapping={"kind": "linear", "worst": "0.5", "best": "1"},
                ),
                _number(
                    "avg_days_beyond_terms",
                    "平均逾期天数",
                    "Average days beyond terms",
                    "8",
                    "4",
                    source="computed",
                    is_financial=False,
                    mapping={
                        "kind": "bands",
                        "bands": [
                            ["0", "8"],
                            ["1", "7"],
                            ["8", "6"],
                            ["16", "4"],
                            ["31", "2"],
                            ["61", "0"],
                        ],
                    },
                ),
                _number(
                    "oldest_overdue_days",
                    "最长逾期天数",
                    "Oldest unpaid overdue item (days)",
                    "5",
                    "2.5",
                    source="computed",
                    is_financial=False,
                    mapping={
                        "kind": "bands",
                        "bands": [["0", "5"], ["1", "4"], ["31", "2"], ["61", "1"], ["91", "0"]],
                    },
                ),
                _number(
                    "bad_debts_and_disputes",
                    "坏账与纠纷",
                    "Bad debts and disputes (3 years)",
                    "5",
                    "2",
                    source="computed",
                    is_financial=False,
                    mapping={"kind": "bands", "bands": [["0", "5"], ["1", "2"], ["2", "0"]]},
                ),
            ],
        },
        {
            "code": "solvency",
            "name": "偿债能力",
            "name_en": "Solvency",
            "points": "12",
            "indicators": [
                _number(
                    "quick_ratio",
                    "速动比率",
                    "Quick ratio",
                    "6",
                    "1.8",
                    source="survey_figure",
                    is_financial=True,
                    # Reference about 1:1.
                    mapping={
                        "kind": "bands",
                        "bands": [["0", "0"], ["0.5", "2"], ["0.8", "4"], ["1", "6"]],
                    },
                ),
                _number(
                    "debt_to_asset_ratio",
                    "资产负债率",
                    "Debt-to-asset ratio",
                    "6",
                    "1.8",
                    source="survey_figure",
                    is_financial=True,
                    # Reference about 50%: 6 points up to 50%, none from 90%.
                    mapping={"kind": "linear", "worst": "0.9", "best": "0.5"},
                ),
            ],
        },
        {
            "code": "operating_capability",
            "name": "经营能力",
            "name_en": "Operating capability",
            "points": "23",
            "indicators": [
                _number(
                    "total_asset_turnover",
                    "总资产周转率",
                    "Total asset turnover",
                    "4",
                    "1.2",
                    source="survey_figure",
                    is_financial=True,
                    # Reference about 4–5.
                    mapping={"kind": "linear", "worst": "1", "best": "4"},
                ),
                _number(
                    "capital_growth",
                    "近三年资本增长",
                    "Capital growth over three years",
                    "4",
                    "1.2",
                    source="survey_figure",
                    is_financial=True,
                    mapping={"kind": "linear", "worst": "-0.1", "best": "0.2"},
                ),
                _number(
                    "purchase_growth",
                    "进货增长率",
                    "Growth of purchases from us",
                    "4",
                    "2",
                    source="computed",
                    is_financial=False,
                    # Invoiced in the last four quarters against the four before.
                    mapping={"kind": "linear", "worst": "-0.2", "best": "0.2"},
                ),
                _choice("sales_capability", "销售能力", "Sales capability", "4", "1.2"),
                _choice("management", "经营管理水平", "Management", "4", "1.2"),
                _choice(
                    "industry_state",
                    "行业状况",
                    "State of the industry",
                    "3",
                    "1",
                    mapping=INDUSTRY_STATE,
                ),
            ],
        },
        {
            "code": "profitability",
            "name": "盈利能力",
            "name_en": "Profitability",
            "points": "10",
            "indicators": [
                _number(
                    "net_profit_margin",
                    "销售净利率",
                    "Net profit margin",
                    "5",
                    "1.5",
                    source="survey_figure",
                    is_financial=True,
                    # Reference about 15%.
                    mapping={"kind": "linear", "worst": "0", "best": "0.15"},
                ),
                _number(
                    "profit_over_three_years",
                    "近三年利润",
                    "Profit over three years",
                    "5",
                    "1.5",
                    source="survey_figure",
                    is_financial=True,
                    measure="profitable_years",
                    # How many of the last three years closed with a profit.
                    mapping={
                        "kind": "bands",
                        "bands": [["0", "0"], ["1", "1"], ["2", "3"], ["3", "5"]],
                    },
                ),
            ],
        },
    ],
}

# The survey's extra number for the bad debts and disputes indicator.
DISPUTES_FACT = "disputes"
