"""One module per kind of import file; each has `plan(mapped, errors, context) -> Plan`."""

# The kinds of import files, in the order their data depends on each other. Kept free of
# Django imports so that the command line can list them before Django is set up.
KINDS = ("customers", "contacts", "products", "orders", "invoices", "payments")
