"""Customer search: `search_text` and a full-text index over it (see kehu/customers/search.py).

SQLite: an FTS5 external-content table customers_customer_fts kept in sync by triggers.
PostgreSQL: a GIN index on to_tsvector('simple', search_text).

A migration must not import app code, so the normaliser is copied here as it was when this
migration was written.
"""

import unicodedata

from django.db import migrations, models

FILL_CHUNK = 20_000
PHONE_SUFFIX_MIN = 4
_CJK_RANGES = (
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)


def _tokens(text):
    tokens = []
    word = []
    for character in unicodedata.normalize("NFKC", text).lower():
        point = ord(character)
        if any(low <= point <= high for low, high in _CJK_RANGES):
            if word:
                tokens.append("".join(word))
                word = []
            tokens.append(character)
        elif character.isalnum():
            word.append(character)
        elif word:
            tokens.append("".join(word))
            word = []
    if word:
        tokens.append("".join(word))
    return tokens


def _search_text_of(name, city, code, phone):
    words = [token for part in (name, city, code, phone) for token in _tokens(part or "")]
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone or "") if c.isdigit())
    if len(digits) < PHONE_SUFFIX_MIN:
        words += [digits] if digits else []
    else:
        words += [digits[start:] for start in range(len(digits) - PHONE_SUFFIX_MIN + 1)]
    return " ".join(words)


def fill_search_text(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    table = schema_editor.quote_name(Customer._meta.db_table)
    last_id = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(
                Customer.objects.using(schema_editor.connection.alias)
                .filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", "name", "city", "code", "phone")[:FILL_CHUNK]
            )
            if not rows:
                break
            last_id = rows[-1][0]
            cursor.executemany(
                f"UPDATE {table} SET search_text = %s WHERE id = %s",  # noqa: S608
                [(_search_text_of(n, c, code, p), pk) for pk, n, c, code, p in rows],
            )


SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE customers_customer_fts USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER customers_customer_fts_insert AFTER INSERT ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "CREATE TRIGGER customers_customer_fts_delete AFTER DELETE ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "END",
    "CREATE TRIGGER customers_customer_fts_update AFTER UPDATE OF search_text ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "INSERT INTO customers_customer_fts(customers_customer_fts) VALUES ('rebuild')",
    # Adding the column rebuilt the table and dropped its planner statistics: without them
    # SQLite scans the kind index instead of starting from the search's matches.
    "ANALYZE customers_customer",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_insert",
    "DROP TRIGGER IF EXISTS customers_customer_fts_delete",
    "DROP TRIGGER IF EXISTS customers_customer_fts_update",
    "DROP TABLE IF EXISTS customers_customer_fts",
]
POSTGRESQL_CREATE = [
    "CREATE INDEX customer_search_text_fts ON customers_customer "
    "USING gin (to_tsvector('simple', search_text))",
    "ANALYZE customers_customer",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS customer_search_text_fts"]


def _run(schema_editor, statements):
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def create_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def drop_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="search text"
            ),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
