"""Special functions for the lifetime-value models, in log space.

The Pareto/NBD likelihood needs the Gaussian hypergeometric function 2F1(a, b; a + 1; z) for
0 ≤ z < 1, with a = r + s + x growing with a customer's purchase count x and b either s + 1 or
r + x. Libraries fail here: the plain series 2F1(a, b; a+1; z) = Σ a/(a+n) (b)_n/n! zⁿ has terms
that first grow like (1 − z)^(−b) before they fall (overflow for b in the hundreds), and scipy's
`hyp2f1` loses accuracy or returns inf for such arguments.

We use Euler's transformation

    2F1(a, b; a+1; z) = (1 − z)^(1 − b) · 2F1(1, a + 1 − b; a + 1; z)

whose series Σ (B)_n/(C)_n zⁿ (B = a + 1 − b, C = a + 1) has positive terms that never exceed
zⁿ whenever 0 < b and 0 < B: no overflow, no cancellation, and geometric convergence at worst at
the rate z. Both Pareto/NBD cases satisfy this (b = s + 1, B = r + x; or b = r + x, B = s + 1).
The derivatives with respect to a, b and z come from the same series: d/dB log (B)_n is the
partial harmonic sum Σ_{k<n} 1/(B + k), accumulated as the terms are, so the likelihood has an
analytic gradient.

The iteration is vectorised over all elements; converged elements leave the working set in blocks,
so a few slow elements (z close to 1) do not hold up the rest.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_BLOCK = 8


class LogHypergeometric(NamedTuple):
    """log 2F1(a, b; a+1; z) and its partial derivatives with respect to a, b and z."""

    value: np.ndarray
    derivative_a: np.ndarray
    derivative_b: np.ndarray
    derivative_z: np.ndarray


def log_hyp2f1_shifted(
    a: np.ndarray | float,
    b: np.ndarray | float,
    z: np.ndarray | float,
    *,
    tolerance: float = 1e-16,
    max_terms: int = 20_000,
) -> LogHypergeometric:
    """log 2F1(a, b; a + 1; z) for a > 0, 0 < b < a + 1 and 0 ≤ z < 1, with its gradient.

    Elements whose series would need more than `max_terms` terms (z within 40/max_terms of 1,
    i.e. 2e-3 by default: reached only when min(α, β)/max(α, β) is that small) come back as NaN,
    so that an optimiser treats that parameter point as unusable.
    """
    a_array, b_array, z_array = np.broadcast_arrays(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(z, dtype=float)
    )
    shape = a_array.shape
    a_flat = a_array.ravel()
    b_flat = b_array.ravel()
    z_flat = z_array.ravel()
    if np.any(a_flat <= 0) or np.any(b_flat <= 0) or np.any(b_flat >= a_flat + 1):
        raise ValueError("log_hyp2f1_shifted needs a > 0 and 0 < b < a + 1")
    if np.any(z_flat < 0) or np.any(z_flat >= 1):
        raise ValueError("log_hyp2f1_shifted needs 0 <= z < 1")
    # beyond this the series needs more than `max_terms` terms (they fall like zⁿ at worst)
    usable = z_flat <= 1.0 - 40.0 / max_terms
    z_flat = np.where(usable, z_flat, 0.0)

    size = a_flat.size
    total = np.ones(size)  # Σ T_n (T_0 = 1)
    total_b = np.zeros(size)  # Σ T_n · Σ_{k<n} 1/(B+k)
    total_a = np.zeros(size)  # Σ T_n · Σ_{k<n} b/((B+k)(C+k))
    total_z = np.zeros(size)  # Σ n (B)_n/(C)_n z^(n−1)
    converged = np.zeros(size, dtype=bool)

    index = np.arange(size)
    big_b = (a_flat + 1.0 - b_flat)[index]
    big_c = (a_flat + 1.0)[index]
    little_b = b_flat[index]
    z_work = z_flat[index]
    one_minus_z = 1.0 - z_work
    # state for n = 1
    power = big_b / big_c  # (B)_n/(C)_n z^(n−1)
    harmonic_b = 1.0 / big_b
    harmonic_a = little_b / (big_b * big_c)
    sum_value = np.ones(index.size)
    sum_b = np.zeros(index.size)
    sum_a = np.zeros(index.size)
    sum_z = np.zeros(index.size)
    n = 1
    while index.size:
        for _ in range(_BLOCK):
            term = power * z_work
            sum_value += term
            sum_b += term * harmonic_b
            sum_a += term * harmonic_a
            sum_z += n * power
            shifted_b = big_b + n
            shifted_c = big_c + n
            harmonic_b = harmonic_b + 1.0 / shifted_b
            harmonic_a = harmonic_a + little_b / (shifted_b * shifted_c)
            power = power * (z_work * shifted_b / shifted_c)
            n += 1
        # `power` is now P_n for the next n; the remainders are bounded by geometric series.
        next_term = power * z_work
        remainder_value = next_term / one_minus_z
        remainder_z = power * (n / one_minus_z + 1.0 / one_minus_z**2)
        remainder_log = remainder_value * (harmonic_b + 1.0 / one_minus_z)
        done = (
            (remainder_value <= tolerance * sum_value)
            & (remainder_z <= tolerance * np.maximum(sum_z, 1e-300) + 1e-300)
            & (remainder_log <= tolerance * np.maximum(sum_b, 1e-300) + 1e-300)
        )
        if n >= max_terms:
            done[:] = True
        if np.any(done):
            finished = index[done]
            total[finished] = sum_value[done]
            total_b[finished] = sum_b[done]
            total_a[finished] = sum_a[done]
            total_z[finished] = sum_z[done]
            converged[finished] = n < max_terms
            keep = ~done
            index = index[keep]
            big_b, big_c, little_b = big_b[keep], big_c[keep], little_b[keep]
            z_work, one_minus_z = z_work[keep], one_minus_z[keep]
            power, harmonic_b, harmonic_a = power[keep], harmonic_b[keep], harmonic_a[keep]
            sum_value, sum_b, sum_a, sum_z = sum_value[keep], sum_b[keep], sum_a[keep], sum_z[keep]

    log_one_minus_z = np.log1p(-z_flat)
    value = (1.0 - b_flat) * log_one_minus_z + np.log(total)
    derivative_a = total_a / total
    derivative_b = -log_one_minus_z - total_b / total
    derivative_z = (b_flat - 1.0) / (1.0 - z_flat) + total_z / total
    for array in (value, derivative_a, derivative_b, derivative_z):
        array[~(converged & usable)] = np.nan
    return LogHypergeometric(
        value.reshape(shape),
        derivative_a.reshape(shape),
        derivative_b.reshape(shape),
        derivative_z.reshape(shape),
    )


def one_minus_exp_ratio(rate: np.ndarray | float, amount: np.ndarray) -> np.ndarray:
    """(1 − exp(−rate · amount)) / rate, continuous at rate = 0 (where it is `amount`)."""
    rate_array = np.asarray(rate, dtype=float)
    small = np.abs(rate_array) < 1e-12
    safe_rate = np.where(small, 1.0, rate_array)
    return np.where(small, amount, -np.expm1(-safe_rate * amount) / safe_rate)


# --- expected purchases of a customer who is alive, for the beta-geometric models ------------
#
# In BG/NBD and MBG/NBD an alive customer buys at rate λ and dies after a purchase with
# probability p. Given alive now, the expected number of purchases in the next t time units is
# E[(1 − exp(−λ p t)) / p]; integrating λ ~ Gamma(n, A) gives
#
#     v(t) = E_p[(1 − (1 + p t / A)^(−n)) / p],   p ~ Beta(a, b′),
#
# the familiar (a + b′ − 1)/(a − 1) · [1 − (A/(A + t))ⁿ · 2F1(n, b′; a + b′ − 1; t/(A + t))]
# (Fader, Hardie & Lee 2005, eq. 10, with n = r + x, A = α + T, b′ = b + x). We compute it two
# ways, each where it is fast and accurate:
# * few purchases (n small): Gauss–Jacobi quadrature over p with the Beta(a, b′) weight; the
#   integrand is smooth on [0, 1] with its only singularity at p = −A/t, and the number of nodes
#   is chosen from the distance of that point to the interval (Bernstein ellipse);
# * many purchases: the series of the Pfaff-transformed 2F1 (below), whose terms fall like
#   j^(a − n − 2) and so converge in a few dozen terms whatever t is.
# Both avoid 1 − (…) cancellation: the quadrature uses expm1/log1p, the series subtracts nothing
# large.

_SERIES_FROM_SHAPE = 10.0
_NODE_COUNTS = (16, 32, 64, 128, 256, 512)


def _jacobi_nodes(beta_a: float, beta_b: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import roots_jacobi

    nodes, weights = roots_jacobi(count, beta_b - 1.0, beta_a - 1.0)
    return (nodes + 1.0) / 2.0, weights / weights.sum()


def _node_count(ratio: np.ndarray) -> np.ndarray:
    """Nodes for a relative error near 1e-13 when the singularity sits at p = −1/ratio."""
    u = 1.0 + 2.0 / np.maximum(ratio, 1e-12)
    rho = u + np.sqrt(u * u - 1.0)
    needed = 20.0 / np.log(rho)
    counts = np.asarray(_NODE_COUNTS)
    position = np.searchsorted(counts, needed)
    return counts[np.minimum(position, counts.size - 1)]


def alive_expected_purchases(
    shape: np.ndarray,
    scale: np.ndarray,
    beta_a: float,
    beta_b: np.ndarray,
    times: np.ndarray,
) -> np.ndarray:
    """v(t) above for every row (shape n, scale A, Beta(a, b′) with b′ per row) and time t.

    Returns an array (rows, times). `times` must be non-negative.
    """
    shape = np.asarray(shape, dtype=float)
    scale = np.asarray(scale, dtype=float)
    beta_b = np.broadcast_to(np.asarray(beta_b, dtype=float), shape.shape)
    times = np.asarray(times, dtype=float)
    result = np.zeros((shape.size, times.size))
    if shape.size == 0 or times.size == 0:
        return result
    by_series = shape >= _SERIES_FROM_SHAPE
    if np.any(by_series):
        rows = np.flatnonzero(by_series)
        result[rows] = _alive_expected_by_series(
            shape[rows], scale[rows], beta_a, beta_b[rows], times
        )
    rows = np.flatnonzero(~by_series)
    if rows.size:
        counts = _node_count(times.max() / scale[rows])
        keys = compress_keys(shape[rows], beta_b[rows], counts)
        for group_shape, group_b, group_count, members in keys:
            nodes, weights = _jacobi_nodes(beta_a, group_b, int(group_count))
            member_rows = rows[members]
            # chunk so that rows × nodes × times stays near four million numbers
            chunk = max(1, 4_000_000 // (nodes.size * times.size))
            for start in range(0, member_rows.size, chunk):
                block = member_rows[start : start + chunk]
                ratio = times[None, None, :] / scale[block, None, None]
                values = -np.expm1(-group_shape * np.log1p(nodes[None, :, None] * ratio))
                values /= nodes[None, :, None]
                result[block] = np.einsum("j,rjk->rk", weights, values)
    return result


def compress_keys(*columns: np.ndarray):
    """Yield (value of each column…, member positions) for each distinct row of the columns."""
    stacked = np.column_stack(columns)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    boundaries = np.searchsorted(inverse[order], np.arange(unique.shape[0] + 1))
    for index, row in enumerate(unique):
        yield (*row, order[boundaries[index] : boundaries[index + 1]])


def _alive_expected_by_series(
    shape: np.ndarray,
    scale: np.ndarray,
    beta_a: float,
    beta_b: np.ndarray,
    times: np.ndarray,
) -> np.ndarray:
    """v(t) from 2F1(n, a − 1; C; −c) = (1 − z)^(a−1) · 2F1(C − n, a − 1; C; z), z = t/(A + t).

    With C = a + b′ − 1 and 2F1(C − n, a − 1; C; z) = 1 + (a − 1) G(z), G = Σ_{j≥1} g_j,
    g_j = (C − n)_j (a)_(j−1) / ((C)_j j!) zʲ, we get
    v = C · [(1 − (1 − z)^(a−1)) / (a − 1) − (1 − z)^(a−1) G(z)], which stays exact as a → 1.
    """
    big_c = (beta_a + beta_b - 1.0)[:, None] * np.ones((1, times.size))
    top = big_c - shape[:, None]
    z = times[None, :] / (scale[:, None] + times[None, :])
    log_one_minus_z = np.log1p(-z)
    flat_c = big_c.ravel()
    flat_top = top.ravel()
    flat_z = z.ravel()
    total = np.zeros(flat_z.size)
    index = np.arange(flat_z.size)
    term = flat_top / flat_c * flat_z  # g_1
    work_c, work_top, work_z = flat_c, flat_top, flat_z
    j = 1
    sums = np.zeros(index.size)
    while index.size:
        for _ in range(_BLOCK):
            sums += term
            term = term * (
                (work_top + j) * (beta_a + j - 1.0) / ((work_c + j) * (j + 1.0)) * work_z
            )
            j += 1
        done = (np.abs(term) <= 1e-17 * np.abs(sums)) | (term == 0) | (j > 100_000)
        if np.any(done):
            total[index[done]] = sums[done]
            keep = ~done
            index, term, sums = index[keep], term[keep], sums[keep]
            work_c, work_top, work_z = work_c[keep], work_top[keep], work_z[keep]
    series = total.reshape(z.shape)
    power = np.exp((beta_a - 1.0) * log_one_minus_z)
    return big_c * (one_minus_exp_ratio(beta_a - 1.0, -log_one_minus_z) - power * series)
