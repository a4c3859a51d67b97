"""Customer cards: who they are, where, whose, how big, how they buy and pay (latent traits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kehu.customers.models import (
    BirthdayCalendar,
    CompanySize,
    Contact,
    ContactRole,
    Customer,
    CustomerKind,
    Ownership,
    SourceChannel,
)
from kehu.customers.search import search_text_of
from kehu.demo import names
from kehu.demo.context import BuildContext, rank_within, segment_index
from kehu.demo.reference import (
    CATEGORIES,
    COMPETITORS,
    CUSTOMER_NOTES,
    DECISION_MAKER_TITLES,
    DISTRICTS,
    FINANCE_TITLES,
    HANDLER_TITLES,
    INDUSTRIES,
    PREFERENCES,
    REGIONS,
    ROADS,
    TECHNICAL_TITLES,
)

NEVER = 10**7  # a day number far in the future: "no such event"

# Payment behaviour of a credit customer.
PUNCTUAL, SLOW, CHRONIC, VANISHED, BAD_DEBT = 0, 1, 2, 3, 4
PAYMENT_CLASS_P = (0.62, 0.22, 0.10, 0.035, 0.025)

SIZES = (CompanySize.MICRO, CompanySize.SMALL, CompanySize.MEDIUM, CompanySize.LARGE)
SIZE_THRESHOLDS = (20_000, 100_000, 600_000)  # yearly purchases in yuan
KEY_ACCOUNT_VALUE = 800_000  # owned by the team's customer manager
BUSINESS_CHANNELS = (
    (SourceChannel.ACQUAINTANCE, 0.10),
    (SourceChannel.CUSTOMER_REFERRAL, 0.14),
    (SourceChannel.PARTNER_REFERRAL, 0.08),
    (SourceChannel.BUSINESS_CONTACT, 0.10),
    (SourceChannel.PUBLIC_STATISTICS, 0.02),
    (SourceChannel.DIRECTORY, 0.04),
    (SourceChannel.PUBLICATION, 0.03),
    (SourceChannel.INTERNET, 0.16),
    (SourceChannel.ADVERTISING, 0.04),
    (SourceChannel.TRADE_SHOW, 0.12),
    (SourceChannel.ASSOCIATION, 0.05),
    (SourceChannel.COLD_CALL, 0.09),
    (SourceChannel.WALK_IN, 0.02),
    (SourceChannel.OTHER, 0.01),
)
CONSUMER_CHANNELS = (
    (SourceChannel.ACQUAINTANCE, 0.15),
    (SourceChannel.CUSTOMER_REFERRAL, 0.18),
    (SourceChannel.INTERNET, 0.20),
    (SourceChannel.ADVERTISING, 0.12),
    (SourceChannel.WALK_IN, 0.30),
    (SourceChannel.OTHER, 0.05),
)
# Years with a leap month in the lunar calendar, and which month, for lunar birthdays.
LUNAR_LEAP_MONTHS = (
    (1982, 4),
    (1984, 10),
    (1987, 6),
    (1990, 5),
    (1993, 3),
    (1995, 8),
    (1998, 5),
    (2001, 4),
)


@dataclass
class CustomerDraw:
    """One chunk of customers: card fields plus the latent traits that drive their history."""

    ids: np.ndarray
    numbers: np.ndarray  # 1-based running number, for the code
    is_business: np.ndarray
    is_prospect: np.ndarray
    region: np.ndarray
    team: np.ndarray
    city: np.ndarray
    owner_id: np.ndarray
    manager_id: np.ndarray  # the team's customer manager
    yearly_value: np.ndarray  # yuan
    orders_per_year: np.ndarray
    created_day: np.ndarray
    acquired_day: np.ndarray
    churn_day: np.ndarray
    comeback_day: np.ndarray
    payment_class: np.ndarray
    vanish_day: np.ndarray
    is_credit: np.ndarray
    terms_days: np.ndarray
    credit_limit_cents: np.ndarray
    discount_bp: np.ndarray
    primary_category: np.ndarray
    size: np.ndarray  # index into SIZES, -1 for consumers
    ownership: list[str]
    source_channel: list[str]
    names: list[str]
    industry: np.ndarray  # index into INDUSTRIES (business customers)
    # filled in by the contact step
    decision_maker_contact: np.ndarray | None = None
    handler_contact: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _channel_draw(
    rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int
) -> list[str]:
    values = [str(value) for value, _ in table]
    weights = np.asarray([weight for _, weight in table])
    return names.pick(rng, tuple(values), n, p=weights / weights.sum())


def customers_draw(
    ctx: BuildContext, rng: np.random.Generator, first_number: int, n: int
) -> CustomerDraw:
    company = ctx.company
    ids = ctx.ids.take(Customer, n)
    numbers = np.arange(first_number, first_number + n, dtype=np.int64)
    is_business = rng.random(n) < 0.68
    is_prospect = rng.random(n) < np.where(is_business, 0.18, 0.12)

    region_p = np.asarray([r.weight for r in REGIONS])
    region = rng.choice(len(REGIONS), size=n, p=region_p / region_p.sum())
    city = np.zeros(n, dtype=np.int64)
    team = rng.integers(0, len(company.team_ids[0]), size=n)
    for index, spec in enumerate(REGIONS):
        mask = region == index
        weights = np.asarray([c.weight for c in spec.cities])
        city[mask] = rng.choice(len(spec.cities), size=int(mask.sum()), p=weights / weights.sum())

    yearly_value = np.where(
        is_business,
        rng.lognormal(np.log(50_000), 1.2, size=n),
        rng.lognormal(np.log(3_000), 0.9, size=n),
    )
    orders_per_year = np.where(
        is_business,
        np.clip(rng.lognormal(np.log(3.5), 0.5, size=n) * (yearly_value / 40_000) ** 0.25, 0.5, 40),
        np.clip(rng.lognormal(np.log(1.5), 0.5, size=n), 0.3, 8),
    )
    size = np.where(is_business, np.searchsorted(SIZE_THRESHOLDS, yearly_value), -1)

    rep_choice = rng.integers(0, len(company.rep_ids[0][0]), size=n)
    owner_id = np.empty(n, dtype=np.int64)
    manager_id = np.empty(n, dtype=np.int64)
    for i, (r, t, k) in enumerate(
        zip(region.tolist(), team.tolist(), rep_choice.tolist(), strict=True)
    ):
        owner_id[i] = company.rep_ids[r][t][k]
        manager_id[i] = company.customer_manager_ids[r][t]
    key_account = is_business & ~is_prospect & (yearly_value >= KEY_ACCOUNT_VALUE)
    owner_id[key_account] = manager_id[key_account]

    # Time line of each relationship.
    today, start = ctx.today, ctx.start
    existed_before = rng.random(n) < 0.5
    acquired_day = np.where(
        existed_before,
        start - rng.integers(30, 2500, size=n),
        rng.integers(start, today - 20, size=n),
    )
    created_day = np.where(
        is_prospect,
        rng.integers(today - 900, today, size=n),
        acquired_day - rng.integers(0, 60, size=n),
    )
    effective_start = np.maximum(acquired_day, start)
    churns = (rng.random(n) < 0.2) & ~is_prospect
    churn_day = np.where(churns, rng.integers(effective_start + 30, today + 31), NEVER)
    churn_day = np.where(churn_day > today, NEVER, churn_day)
    # A quarter of the customers won during the three years buy once and never again.
    one_off = ~is_prospect & ~existed_before & (rng.random(n) < 0.25)
    churn_day = np.where(one_off, acquired_day, churn_day)
    comeback_day = np.full(n, NEVER, dtype=np.int64)
    can_come_back = (churn_day < today - 800) & (rng.random(n) < 0.15)
    comeback_day[can_come_back] = rng.integers(churn_day[can_come_back] + 731, today - 9)

    is_credit = ~is_prospect & np.where(
        is_business, rng.random(n) < np.where(size == 0, 0.6, 0.88), rng.random(n) < 0.08
    )
    payment_class = np.where(is_credit, rng.choice(5, size=n, p=PAYMENT_CLASS_P), PUNCTUAL)
    vanish_day = np.full(n, NEVER, dtype=np.int64)
    vanished = payment_class == VANISHED
    vanish_day[vanished] = rng.integers(today - 330, today - 60, size=int(vanished.sum()))
    bad = payment_class == BAD_DEBT
    vanish_day[bad] = rng.integers(start + 120, today - 420, size=int(bad.sum()))
    vanish_day = np.where(
        payment_class >= VANISHED, np.maximum(vanish_day, effective_start + 90), vanish_day
    )
    payment_class = np.where(
        (payment_class == BAD_DEBT) & (vanish_day > today - 400), VANISHED, payment_class
    )
    payment_class = np.where(
        (payment_class == VANISHED) & (vanish_day > today - 30), CHRONIC, payment_class
    )
    vanish_day = np.where(payment_class >= VANISHED, vanish_day, NEVER)
    # Who vanishes stops buying soon after; nobody comes back from it.
    churn_day = np.minimum(churn_day, vanish_day + rng.integers(10, 45, size=n))
    churn_day = np.where(churn_day > today, NEVER, churn_day)
    comeback_day = np.where(payment_class >= VANISHED, NEVER, comeback_day)

    terms_days = np.full(n, 30, dtype=np.int64)
    terms_by_size = ((30, 30, 45), (30, 45, 45), (30, 45, 60), (60, 60, 90))
    for index, options in enumerate(terms_by_size):
        mask = is_credit & (size == index)
        terms_days[mask] = rng.choice(options, size=int(mask.sum()))
    monthly = yearly_value / 12
    limit_yuan = np.ceil(monthly * terms_days / 30 * rng.uniform(1.2, 2.2, size=n) / 10_000)
    credit_limit_cents = np.where(is_credit, np.maximum(limit_yuan, 1) * 1_000_000, 0)
    credit_limit_cents = credit_limit_cents.astype(np.int64)

    discount_low = np.asarray([0, 200, 400, 800])
    discount_high = np.asarray([300, 600, 1000, 1500])
    size_index = np.maximum(size, 0)
    discount_bp = np.where(
        is_business,
        rng.integers(discount_low[size_index], discount_high[size_index] + 1),
        rng.integers(0, 301, size=n),
    )
    risky = is_business & (rng.random(n) < 0.04)
    discount_bp = np.where(risky, rng.integers(1500, 2600, size=n), discount_bp)
    discount_bp = (discount_bp // 50) * 50

    business_p = np.asarray([c.business_weight for c in CATEGORIES])
    consumer_p = np.asarray([c.consumer_weight for c in CATEGORIES])
    primary_category = np.where(
        is_business,
        rng.choice(len(CATEGORIES), size=n, p=business_p / business_p.sum()),
        rng.choice(len(CATEGORIES), size=n, p=consumer_p / consumer_p.sum()),
    )

    ownership = _ownership_draw(rng, is_business, size)
    business_channels = _channel_draw(rng, BUSINESS_CHANNELS, n)
    consumer_channels = _channel_draw(rng, CONSUMER_CHANNELS, n)
    source_channel = [
        b if flag else c
        for flag, b, c in zip(
            is_business.tolist(), business_channels, consumer_channels, strict=True
        )
    ]
    card_names, industry = _names_draw(rng, is_business, region, city, size, ownership)
    return CustomerDraw(
        ids=ids,
        numbers=numbers,
        is_business=is_business,
        is_prospect=is_prospect,
        region=region,
        team=team,
        city=city,
        owner_id=owner_id,
        manager_id=manager_id,
        yearly_value=yearly_value,
        orders_per_year=orders_per_year,
        created_day=created_day,
        acquired_day=acquired_day,
        churn_day=churn_day,
        comeback_day=comeback_day,
        payment_class=payment_class,
        vanish_day=vanish_day,
        is_credit=is_credit,
        terms_days=terms_days,
        credit_limit_cents=credit_limit_cents,
        discount_bp=discount_bp,
        primary_category=primary_category,
        size=size,
        ownership=ownership,
        source_channel=source_channel,
        names=card_names,
        industry=industry,
    )


def _ownership_draw(
    rng: np.random.Generator, is_business: np.ndarray, size: np.ndarray
) -> list[str]:
    options = (
        Ownership.STATE_OWNED,
        Ownership.PRIVATE,
        Ownership.FOREIGN,
        Ownership.COLLECTIVE,
        Ownership.INDIVIDUAL,
    )
    by_size = np.asarray(
        [
            (0.02, 0.68, 0.01, 0.04, 0.25),  # micro
            (0.05, 0.80, 0.05, 0.05, 0.05),  # small
            (0.12, 0.70, 0.12, 0.05, 0.01),  # medium
            (0.30, 0.48, 0.20, 0.02, 0.00),  # large
        ]
    )
    cumulative = np.cumsum(by_size, axis=1)
    cumulative[:, -1] = 1.0
    draws = rng.random(len(size))
    index = (draws[:, None] > cumulative[np.maximum(size, 0)]).sum(axis=1)
    return [
        str(options[i]) if business else ""
        for i, business in zip(index.tolist(), is_business.tolist(), strict=True)
    ]


def _names_draw(
    rng: np.random.Generator,
    is_business: np.ndarray,
    region: np.ndarray,
    city: np.ndarray,
    size: np.ndarray,
    ownership: list[str],
) -> tuple[list[str], np.ndarray]:
    n = len(region)
    people = names.person_names(rng, n)
    brands = names.brands(rng, n)
    industry_p = np.asarray([i.weight for i in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), size=n, p=industry_p / industry_p.sum())
    word_draw = rng.integers(0, 1000, size=n)
    form_draw = rng.random(n)
    result = []
    for i in range(n):
        if not is_business[i]:
            result.append(people[i])
            continue
        spec = INDUSTRIES[industry[i]]
        word = spec.words[word_draw[i] % len(spec.words)]
        city_name = REGIONS[region[i]].cities[city[i]].name
        if ownership[i] == Ownership.INDIVIDUAL:
            form = "商行" if form_draw[i] < 0.5 else "经营部"
        elif size[i] == 3 and form_draw[i] < 0.35:
            form = "集团有限公司"
        elif form_draw[i] < 0.15:
            form = "股份有限公司"
        elif form_draw[i] < 0.35:
            form = "有限责任公司"
        else:
            form = "有限公司"
        if ownership[i] == Ownership.FOREIGN and form_draw[i] < 0.5:
            result.append(f"{brands[i]}{word}（中国）有限公司")
        else:
            result.append(f"{city_name}{brands[i]}{word}{form}")
    return result, industry


def _province_label(province: str, city: str) -> str:
    if province == city:
        return f"{province}市"
    return {"广西": "广西壮族自治区", "内蒙古": "内蒙古自治区"}.get(province, f"{province}省")


def customer_columns(
    ctx: BuildContext,
    rng: np.random.Generator,
    draw: CustomerDraw,
    *,
    first_purchase: np.ndarray,
    last_purchase: np.ndarray,
    purchase_count: np.ndarray,
) -> dict[str, Any]:
    """The customer rows, with the purchase statistics computed from the generated orders."""
    writer = ctx.writer
    n = len(draw)
    cities = [
        REGIONS[r].cities[c] for r, c in zip(draw.region.tolist(), draw.city.tolist(), strict=True)
    ]
    far = rng.random(n) < 0.2
    spread = np.where(far, 0.35, 0.06)
    latitude = np.asarray([c.latitude for c in cities]) + rng.normal(0, 1, n) * spread
    longitude = np.asarray([c.longitude for c in cities]) + rng.normal(0, 1, n) * spread
    districts = names.pick(rng, DISTRICTS, n)
    roads = names.pick(rng, ROADS, n)
    house = rng.integers(1, 999, size=n).tolist()
    postal_tail = rng.integers(0, 100, size=n).tolist()
    landline = names.landlines(rng, [c.area_code for c in cities])
    mobile = names.mobile_phones(rng, n)
    email = names.emails(rng, n, share=0.35)
    competitor_index = rng.integers(0, len(COMPETITORS), size=n).tolist()
    is_competitors = draw.is_prospect & (rng.random(n) < np.where(draw.is_business, 0.35, 0.15))
    notes = names.pick(rng, CUSTOMER_NOTES, n)
    business = draw.is_business.tolist()
    province_label = [_province_label(c.province, c.name) for c in cities]
    city_label = [f"{c.name}市" for c in cities]
    created_seconds = ctx.office_seconds(rng, n)
    stamps = writer.datetimes(draw.created_day, created_seconds)
    size_codes = [str(SIZES[s]) if s >= 0 else "" for s in draw.size.tolist()]
    codes = [f"C{number:07d}" for number in draw.numbers.tolist()]
    phones = [land if b else mob for b, land, mob in zip(business, landline, mobile, strict=True)]
    return {
        "id": draw.ids,
        "created_at": stamps,
        "updated_at": stamps,
        "code": codes,
        "name": draw.names,
        "kind": [str(CustomerKind.BUSINESS if b else CustomerKind.CONSUMER) for b in business],
        "industry": [
            INDUSTRIES[i].name if b else ""
            for i, b in zip(draw.industry.tolist(), business, strict=True)
        ],
        "ownership": draw.ownership,
        "size": size_codes,
        "region_id": [ctx.company.region_ids[r] for r in draw.region.tolist()],
        "territory": [f"{c.name}片区" for c in cities],
        "province": province_label,
        "city": city_label,
        "address": [
            f"{p if p != c else ''}{c}{d}{road}{h}号"
            for p, c, d, road, h in zip(
                province_label, city_label, districts, roads, house, strict=True
            )
        ],
        "postal_code": [
            f"{c.postal_code[:4]}{t:02d}" for c, t in zip(cities, postal_tail, strict=True)
        ],
        "latitude": writer.coordinate(latitude),
        "longitude": writer.coordinate(longitude),
        "phone": phones,
        "email": email,
        "source_channel": draw.source_channel,
        "competitor": [
            COMPETITORS[k] if flag else ""
            for k, flag in zip(competitor_index, is_competitors.tolist(), strict=True)
        ],
        "owner_id": draw.owner_id,
        "notes": [note if b else "" for note, b in zip(notes, business, strict=True)],
        "credit_limit": writer.money(draw.credit_limit_cents),
        "payment_terms_days": draw.terms_days,
        "currency": ["CNY"] * n,
        "first_purchase_on": writer.dates(first_purchase, null_below=0),
        "last_purchase_on": writer.dates(last_purchase, null_below=0),
        "purchase_count": purchase_count,
        "search_text": [
            search_text_of(name=name, city=city, code=code, phone=phone)
            for name, city, code, phone in zip(draw.names, city_label, codes, phones, strict=True)
        ],
    }


def historical_columns(customer: dict[str, Any]) -> dict[str, Any]:
    """The 'created' history row of each card, as django-simple-history would have written."""
    skip = {"created_at", "updated_at", "search_text"}
    rows = {name: values for name, values in customer.items() if name not in skip}
    count = len(customer["id"])  # type: ignore[arg-type]
    rows["history_date"] = customer["created_at"]
    rows["history_type"] = ["+"] * count
    rows["history_change_reason"] = ["demo"] * count
    rows["history_user_id"] = customer["owner_id"]
    return rows


def contact_columns(
    ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw
) -> dict[str, Any]:
    """Decision maker and handler for business customers (plus finance and technical for
    some); consumers are their own contact. Sets draw.decision_maker/handler_contact."""
    n = len(draw)
    business = draw.is_business
    has_finance = business & (rng.random(n) < 0.4)
    has_technical = business & (rng.random(n) < 0.2)
    counts = np.where(business, 2 + has_finance + has_technical, 1).astype(np.int64)
    owner = segment_index(counts)
    position = rank_within(counts)
    total = int(counts.sum())
    ids = ctx.ids.take(Contact, total)
    first_of = np.cumsum(counts) - counts
    draw.decision_maker_contact = ids[first_of]
    draw.handler_contact = np.where(
        business, ids[np.minimum(first_of + 1, total - 1)], ids[first_of]
    )

    role = np.full(total, "", dtype=object)
    is_business_row = business[owner]
    role[~is_business_row] = ContactRole.OTHER
    role[is_business_row & (position == 0)] = ContactRole.DECISION_MAKER
    role[is_business_row & (position == 1)] = ContactRole.HANDLER
    third = is_business_row & (position == 2)
    role[third & has_finance[owner]] = ContactRole.FINANCE
    role[third & ~has_finance[owner]] = ContactRole.TECHNICAL
    role[is_business_row & (position == 3)] = ContactRole.TECHNICAL
    titles: dict[str, tuple[str, ...]] = {
        ContactRole.DECISION_MAKER: DECISION_MAKER_TITLES,
        ContactRole.HANDLER: HANDLER_TITLES,
        ContactRole.FINANCE: FINANCE_TITLES,
        ContactRole.TECHNICAL: TECHNICAL_TITLES,
    }
    title_draw = rng.integers(0, 1000, size=total).tolist()
    people = names.person_names(rng, total)
    contact_names = [
        draw.names[o] if not b else p
        for o, b, p in zip(owner.tolist(), is_business_row.tolist(), people, strict=True)
    ]
    role_list = [str(r) for r in role.tolist()]
    title = [
        titles[r][k % len(titles[r])] if r in titles else ""
        for r, k in zip(role_list, title_draw, strict=True)
    ]

    has_birthday = rng.random(total) < 0.55
    is_lunar = has_birthday & (rng.random(total) < 0.35)
    birth_year = rng.integers(1960, 1996, size=total)
    birth_month = rng.integers(1, 13, size=total)
    birth_day = np.where(is_lunar, rng.integers(1, 30, size=total), rng.integers(1, 29, size=total))
    leap = np.zeros(total, dtype=bool)
    leap_pick = is_lunar & (rng.random(total) < 0.03)
    leap_choice = rng.integers(0, len(LUNAR_LEAP_MONTHS), size=total)
    for index in np.flatnonzero(leap_pick).tolist():
        year, month = LUNAR_LEAP_MONTHS[leap_choice[index]]
        birth_year[index], birth_month[index], leap[index] = year, month, True
    present = has_birthday.tolist()
    stamps = ctx.writer.datetimes(draw.created_day[owner], ctx.office_seconds(rng, total))
    return {
        "id": ids,
        "created_at": stamps,
        "updated_at": stamps,
        "customer_id": draw.ids[owner],
        "name": contact_names,
        "role": role_list,
        "title": title,
        "phone": names.mobile_phones(rng, total),
        "email": names.emails(rng, total, share=0.5),
        "birthday_calendar": [
            str(BirthdayCalendar.LUNAR if lunar else BirthdayCalendar.SOLAR)
            for lunar in is_lunar.tolist()
        ],
        "birth_year": [y if p else None for y, p in zip(birth_year.tolist(), present, strict=True)],
        "birth_month": [
            m if p else None for m, p in zip(birth_month.tolist(), present, strict=True)
        ],
        "birth_day": [d if p else None for d, p in zip(birth_day.tolist(), present, strict=True)],
        "birth_month_is_leap": ctx.writer.booleans(leap),
        "preferences": names.pick(rng, PREFERENCES, total),
        "is_primary": ctx.writer.booleans(position == 0),
    }


def tag_columns(ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw) -> dict[str, Any]:
    """Tags that follow from what a customer is and does, with some left off at random."""
    n = len(draw)
    buyer = ~draw.is_prospect
    business = draw.is_business
    luck = rng.random((12, n))
    wholesale = np.asarray([spec.name == "批发零售" for spec in INDUSTRIES])[draw.industry]
    state_owned = np.asarray([o == Ownership.STATE_OWNED for o in draw.ownership])
    channel = np.asarray(draw.source_channel)
    rules = {
        "重点客户": buyer & (draw.yearly_value >= 300_000),
        "战略合作": buyer & (draw.yearly_value >= 1_500_000) & (draw.churn_day == NEVER),
        "经销商": business & wholesale & (luck[0] < 0.5),
        "价格敏感": buyer & (draw.discount_bp >= 1200) & (luck[1] < 0.8),
        "回款慢": np.isin(draw.payment_class, (SLOW, CHRONIC)) & draw.is_credit & (luck[2] < 0.6),
        "政府采购": business & state_owned & (luck[3] < 0.4),
        "展会客户": (channel == SourceChannel.TRADE_SHOW) & (luck[4] < 0.7),
        "老客户推荐": (channel == SourceChannel.CUSTOMER_REFERRAL) & (luck[5] < 0.6),
        "需专票": business & buyer & (luck[6] < 0.2),
        "节日问候": buyer & (draw.yearly_value >= 100_000) & (luck[7] < 0.5),
        "高潜力": draw.is_prospect & (luck[8] < 0.25),
        "窜货风险": business & (draw.size == 3) & (draw.discount_bp >= 1500),
    }
    customer_ids: list[np.ndarray] = []
    tag_ids: list[np.ndarray] = []
    for name, mask in rules.items():
        who = draw.ids[mask]
        customer_ids.append(who)
        tag_ids.append(np.full(len(who), ctx.company.tag_ids[name], dtype=np.int64))
    customers = np.concatenate(customer_ids)
    tags = np.concatenate(tag_ids)
    order = np.lexsort((tags, customers))
    return {"customer_id": customers[order], "tag_id": tags[order]}
