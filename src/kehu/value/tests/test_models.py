"""The four models: published CDNOW estimates, gradients, invariants and numerical stability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value.clv import bgnbd, gamma_gamma, mbgnbd, pareto_nbd
from kehu.value.clv.data import purchase_history

PURCHASE_MODELS = (bgnbd, mbgnbd, pareto_nbd)


def rounded(params: dict[str, float], digits: int) -> dict[str, float]:
    return {name: round(value, digits) for name, value in params.items()}


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_history):
    # given the CDNOW 39-week calibration summary; when fitted
    result = bgnbd.fit(*cdnow_history)
    # then the published estimates and log-likelihood (Fader, Hardie & Lee 2005) to the printed
    # precision
    assert result.converged
    assert rounded(result.params, 3) == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(result.log_likelihood, 1) == -9582.4
    assert set(result.standard_errors) == {"r", "alpha", "a", "b"}
    assert result.standard_errors["r"] == pytest.approx(0.0126, abs=1e-4)


def test_pareto_nbd_reproduces_fader_hardie_2005(cdnow_history):
    result = pareto_nbd.fit(*cdnow_history)
    assert result.converged
    # published: r = 0.553, α = 10.578, s = 0.606, β = 11.669. β's likelihood is very flat
    # (standard error 6.2); the maximum is at β = 11.6679, which our Newton polish confirms and
    # lifetimes finds too (11.668), so β is checked to the printed precision ± one unit.
    params = rounded(result.params, 3)
    assert (params["r"], params["alpha"], params["s"]) == (0.553, 10.578, 0.606)
    assert result.params["beta"] == pytest.approx(11.669, abs=1.5e-3)
    assert round(result.log_likelihood, 1) == -9595.0


def test_mbgnbd_matches_lifetimes_on_cdnow(cdnow_history):
    # lifetimes 0.11.3's ModifiedBetaGeoFitter on the same file: r 0.524838, α 6.182988,
    # a 0.891356, b 1.614000
    result = mbgnbd.fit(*cdnow_history)
    expected = {"r": 0.524838, "alpha": 6.182988, "a": 0.891356, "b": 1.614000}
    for name, value in expected.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4)


def test_gamma_gamma_reproduces_fader_hardie_lee_2005(cdnow_weekly_summary):
    # given the CDNOW sample's calibration summary with the mean value of each customer's repeat
    # purchase days (same-day purchases added up), unrounded — the data of "RFM and CLV"
    frequency = cdnow_weekly_summary["frequency"].to_numpy()
    money = cdnow_weekly_summary["monetary_value"].to_numpy()
    result = gamma_gamma.fit(frequency, money)
    # then p = 6.25, q = 3.74, γ = 15.44 (lifetimes' copy of the data, rounded to cents, gives
    # γ = 15.4477, which prints as 15.45)
    assert result.converged
    assert result.customers == 946
    assert rounded(result.params, 2) == {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.mark.parametrize("model", PURCHASE_MODELS)
@pytest.mark.parametrize("log_params", [np.log([0.5, 0.3, 1.3, 0.7]), np.log([2.0, 0.1, 0.4, 3.0])])
def test_purchase_model_gradients_match_finite_differences(model, log_params, cdnow_history):
    objective = model._objective(purchase_history(*cdnow_history))
    _, gradient = objective(log_params)
    step = 1e-6
    numeric = [
        (objective(log_params + step * unit)[0] - objective(log_params - step * unit)[0])
        / (2 * step)
        for unit in np.eye(4)
    ]
    assert gradient == pytest.approx(numeric, rel=1e-6, abs=1e-4)


def test_gamma_gamma_gradient_matches_finite_differences(cdnow_weekly_summary):
    frequency = cdnow_weekly_summary["frequency"].to_numpy()
    money = cdnow_weekly_summary["monetary_value"].to_numpy()
    at = {"p": 2.0, "q": 5.0, "gamma": 30.0}
    total = gamma_gamma.log_likelihood(at, frequency[frequency > 0], money[frequency > 0]).sum()
    result = gamma_gamma.fit(frequency, money, initial=at)
    # the fit moved uphill from the starting point
    assert result.log_likelihood > total


def test_per_customer_log_likelihood_adds_up_to_the_fit(cdnow_history):
    for model in PURCHASE_MODELS:
        result = model.fit(*cdnow_history)
        total = model.log_likelihood(result.params, *cdnow_history).sum()
        assert total == pytest.approx(result.log_likelihood, rel=1e-10)


histories = st.tuples(
    st.integers(min_value=0, max_value=600),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.01, max_value=500.0),
).map(lambda row: (row[0], 0.0 if row[0] == 0 else row[1] * row[2], row[2]))
parameters = st.tuples(*(st.floats(min_value=0.05, max_value=20.0) for _ in range(4)))


@settings(max_examples=150, deadline=None)
@given(history=histories, values=parameters)
def test_probability_alive_is_a_probability(history, values):
    x, t_x, age = (np.array([value], dtype=float) for value in history)
    for model in PURCHASE_MODELS:
        params = dict(zip(model.NAMES, values, strict=True))
        alive = model.probability_alive(params, x, t_x, age)
        assert np.all(np.isfinite(alive))
        assert np.all((alive >= 0) & (alive <= 1))


@settings(max_examples=60, deadline=None)
@given(history=histories, values=parameters)
def test_expected_purchases_grow_with_the_horizon(history, values):
    x, _, age = (np.array([value], dtype=float) for value in history)
    for model in PURCHASE_MODELS:
        params = dict(zip(model.NAMES, values, strict=True))
        curve = model.alive_expected_purchases_at(params, x, age, np.array([1.0, 10.0, 100.0]))
        assert np.all(np.isfinite(curve))
        assert np.all(curve[0] >= 0)
        assert np.all(np.diff(curve[0]) >= -1e-12)


def test_a_customer_with_500_purchases_is_fine():
    # given a loyal customer (500 repeat purchases, the last one a day ago) and a lapsed one
    x = np.array([500.0, 500.0])
    t_x = np.array([364.0, 100.0])
    age = np.array([365.0, 365.0])
    for model, params in (
        (bgnbd, {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43}),
        (mbgnbd, {"r": 0.52, "alpha": 6.2, "a": 0.89, "b": 1.61}),
        (pareto_nbd, {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}),
        (pareto_nbd, {"r": 0.55, "alpha": 30.0, "s": 0.61, "beta": 3.0}),
    ):
        log_likelihood = model.log_likelihood(params, x, t_x, age)
        alive = model.probability_alive(params, x, t_x, age)
        expected = model.conditional_expected_purchases(params, 365.0, x, t_x, age)
        # then everything is finite; the loyal one is alive and keeps buying at about her rate
        assert np.all(np.isfinite(log_likelihood))
        assert alive[0] > 0.99
        assert alive[1] < 1e-6
        assert 300 < expected[0] < 600
        assert expected[1] < 1e-3


def test_fitting_customers_with_hundreds_of_purchases_converges():
    # given 2,000 customers simulated from BG/NBD with about 1.5 purchases a day and a small
    # dropout probability, so that frequencies run into the hundreds
    rng = np.random.default_rng(7)
    size = 2000
    age = rng.uniform(200.0, 365.0, size)
    rate = rng.gamma(3.0, 0.5, size)
    events = rng.poisson(rate * age)
    repeats = np.minimum(events, rng.geometric(rng.beta(2.0, 400.0, size)))
    t_x = np.zeros(size)
    has = repeats > 0
    t_x[has] = age[has] * rng.beta(repeats[has], events[has] - repeats[has] + 1)
    x = repeats.astype(float)
    assert x.max() > 500
    for model in PURCHASE_MODELS:
        result = model.fit(x, t_x, age)
        # then every model converges to finite parameters with standard errors
        assert result.converged, result.message
        assert all(np.isfinite(list(result.params.values())))
        assert all(np.isfinite(list(result.standard_errors.values())))
    # and BG/NBD finds the simulated r and α = 1/0.5 roughly
    result = bgnbd.fit(x, t_x, age)
    assert result.params["r"] == pytest.approx(3.0, rel=0.15)
    assert result.params["alpha"] == pytest.approx(2.0, rel=0.15)


def test_pareto_probability_alive_matches_the_closed_form_for_cdnow_customer_1(cdnow_history):
    # P(alive) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0), evaluated with mpmath
    mpmath = pytest.importorskip("mpmath")
    params = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    with mpmath.workdps(30):  # local: mpmath's global precision is shared with other tests
        r, alpha, s, beta = (mpmath.mpf(value) for value in params.values())
        x, t_x, age = (mpmath.mpf(value) for value in (2, 30.43, 38.86))
        integral = mpmath.quad(
            lambda u: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), [t_x, age]
        )
        alive = 1 / (1 + s * integral * (alpha + age) ** (r + x) * (beta + age) ** s)
    ours = pareto_nbd.probability_alive(
        params, np.array([2.0]), np.array([30.43]), np.array([38.86])
    )
    assert ours[0] == pytest.approx(float(alive), rel=1e-12)


def test_invalid_histories_are_refused():
    with pytest.raises(ValueError, match="recency is larger than T"):
        bgnbd.fit(np.array([1.0]), np.array([5.0]), np.array([4.0]))
    with pytest.raises(ValueError, match="recency must be 0"):
        bgnbd.fit(np.array([0.0]), np.array([1.0]), np.array([4.0]))
    with pytest.raises(ValueError, match="whole number"):
        pareto_nbd.fit(np.array([1.5]), np.array([1.0]), np.array([4.0]))
    with pytest.raises(ValueError, match="no customers"):
        mbgnbd.fit(np.array([]), np.array([]), np.array([]))
    with pytest.raises(ValueError, match="T = 0"):
        bgnbd.fit(np.array([0.0]), np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        gamma_gamma.fit(np.array([0.0, 1.0]), np.array([0.0, -3.0]))


def test_a_fit_that_runs_out_of_iterations_says_so(cdnow_history):
    from kehu.value.clv.fitting import maximise_likelihood

    objective = bgnbd._objective(purchase_history(*cdnow_history))
    result = maximise_likelihood(
        model="bgnbd",
        names=bgnbd.NAMES,
        objective=objective,
        initial_log_params=np.zeros(4),
        customers=2357.0,
        max_iterations=2,
    )
    assert result.converged is False
    assert result.message.startswith("did not converge")
    assert result.iterations == 2


def test_gamma_gamma_expected_spend_shrinks_towards_the_population_mean():
    params = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    spend = gamma_gamma.expected_spend(
        params, np.array([0.0, 1.0, 100.0]), np.array([0.0, 50.0, 50.0])
    )
    population = 15.44 * 6.25 / 2.74
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 50.0
    with pytest.raises(ValueError, match="no finite mean"):
        gamma_gamma.expected_spend(
            {"p": 1.0, "q": 0.9, "gamma": 1.0}, np.array([1.0]), np.array([1.0])
        )


@pytest.mark.parametrize(
    ("frequency", "recency", "age"),
    [
        ([2.0], [5.0], [10.0]),  # one customer
        ([1.0] * 50, [3.0] * 50, [10.0] * 50),  # all customers equal
        ([0.0] * 20, [0.0] * 20, list(np.linspace(1.0, 10.0, 20))),  # nobody came back
    ],
)
@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_data_that_cannot_identify_the_model_give_a_fit_that_says_so(
    model, frequency, recency, age
):
    result = model.fit(np.array(frequency), np.array(recency), np.array(age))
    assert result.converged is False
    assert "Hessian" in result.message or "edge of the search range" in result.message
