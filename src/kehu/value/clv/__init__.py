"""Kehu's own customer lifetime-value models (domain §4.6): BG/NBD, MBG/NBD, Pareto/NBD for
purchases and Gamma-Gamma for spend, fitted by maximum likelihood on per-customer summaries."""

from __future__ import annotations

from types import ModuleType

from kehu.value.clv import bgnbd, gamma_gamma, mbgnbd, pareto_nbd

PURCHASE_MODELS: dict[str, ModuleType] = {
    bgnbd.MODEL: bgnbd,
    mbgnbd.MODEL: mbgnbd,
    pareto_nbd.MODEL: pareto_nbd,
}
SPEND_MODELS: dict[str, ModuleType] = {gamma_gamma.MODEL: gamma_gamma}


def purchase_model(name: str) -> ModuleType:
    try:
        return PURCHASE_MODELS[name]
    except KeyError:
        known = ", ".join(PURCHASE_MODELS)
        raise ValueError(f"unknown purchase model {name!r}; choose one of {known}") from None
