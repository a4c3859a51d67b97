"""The demo company: a believable organisation, catalogue, customers and three years of history.

`kehu.demo.services.demo_build` is the entry point; everything it writes is deterministic for a
seed and a "today".
"""
