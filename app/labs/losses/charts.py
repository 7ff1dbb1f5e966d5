"""The Loss lab's charts: each loss against what it measures, with the current value marked (and
draggable), the likelihoods, and the saturation curves."""

from __future__ import annotations

import math

import numpy as np

from app.labs.losses import measures as lab
from app.labs.losses.fields import LossFields
from app.web.charts import Marker, Series, xy_chart
from app.web.numbers import Numbers

BLUE, ORANGE, GREEN, VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"


def charts(gettext, numbers: Numbers, state: LossFields, measured: dict) -> dict:
    """Every chart of the lab; `measured` holds lab_context's measures of the state."""
    reg = measured["regression"]
    xs, curves = lab.regression_curves(state)
    prediction = gettext("prediction ŷ")
    here = gettext("now")
    charts = {}
    for name, title, colour in (("mse", "MSE", BLUE), ("mae", "MAE", ORANGE)):
        charts[name] = xy_chart(
            [Series(title, xs.tolist(), curves[name].tolist())],
            x_label=prediction,
            y_label=gettext("loss"),
            title=gettext("%(loss)s against the prediction (target %(y)s)")
            % {"loss": title, "y": numbers.short(state.y, 6)},
            x_range=(float(xs[0]), float(xs[-1])),
            markers=[Marker(state.yhat, reg[name].value, here, colour, reg[name].grad)],
            colours=[colour],
            height=250,
            numbers=numbers,
            drag_input="yhat",
        )
    ps, values = lab.bce_curve(state.t)
    b = measured["bce"]
    charts["bce"] = xy_chart(
        [Series("BCE", ps.tolist(), values.tolist())],
        x_label=gettext("predicted probability p"),
        y_label=gettext("loss"),
        title=gettext("Binary cross-entropy against p (target %(t)s)")
        % {"t": numbers.short(state.t, 6)},
        x_range=(0.0, 1.0),
        markers=[Marker(state.p, b.value, here, GREEN, b.grad)],
        colours=[GREEN],
        height=250,
        numbers=numbers,
        drag_input="p",
    )
    cat = measured["categorical"]
    zs, losses = lab.categorical_curve(state)
    charts["cce"] = xy_chart(
        [Series("CE", zs.tolist(), losses.tolist())],
        x_label=gettext("logit of the true class, z%(k)s") % {"k": state.k},
        y_label=gettext("loss"),
        title=gettext("Cross-entropy as the true class's logit moves"),
        x_range=(-10.0, 10.0),
        markers=[
            Marker(state.z[state.k - 1], cat.value, here, VERMILION, float(cat.grad[state.k - 1]))
        ],
        colours=[VERMILION],
        height=250,
        numbers=numbers,
        drag_input=f"z{state.k}",
    )
    coin = measured["coin"]
    ps, relative, nll = lab.coin_curves(state)
    mle = gettext("maximum")
    charts["likelihood"] = xy_chart(
        [Series(gettext("likelihood"), ps.tolist(), relative.tolist())],
        x_label=gettext("p (chance of heads)"),
        y_label=gettext("L(p) ÷ its maximum"),
        title=gettext("Likelihood of the tosses"),
        x_range=(0.0, 1.0),
        y_range=(0.0, 1.0),
        markers=[
            Marker(state.pc, math.exp(coin.bce_hat * coin.n - coin.nll), here, BLUE),
            Marker(coin.p_hat, 1.0, mle, ORANGE),
        ],
        colours=[BLUE],
        height=250,
        numbers=numbers,
        drag_input="pc",
    )
    charts["nll"] = xy_chart(
        [Series(gettext("−log L ÷ n = BCE"), ps.tolist(), nll.tolist())],
        x_label=gettext("p (chance of heads)"),
        y_label=gettext("−log L(p) ÷ n"),
        title=gettext("Negative log-likelihood per toss"),
        x_range=(0.0, 1.0),
        markers=[
            Marker(state.pc, coin.bce, here, BLUE),
            Marker(coin.p_hat, coin.bce_hat, mle, ORANGE),
        ],
        colours=[GREEN],
        height=250,
        numbers=numbers,
        drag_input="pc",
    )
    fit = measured["line"]
    x_low, x_high = float(fit.x.min()), float(fit.x.max())
    pad = 0.1 * (x_high - x_low)
    line_xs = [x_low - pad, x_high + pad]
    charts["line"] = xy_chart(
        [
            Series(
                gettext("the most likely line"),
                line_xs,
                [fit.w_hat * x + fit.b_hat for x in line_xs],
            ),
            Series(gettext("your slope"), line_xs, [state.wc * x + fit.b_hat for x in line_xs]),
        ],
        x_label="x",
        y_label="y",
        title=gettext("The data and two lines"),
        scatter=(fit.x.tolist(), fit.y.tolist()),
        colours=[ORANGE, BLUE],
        height=280,
        numbers=numbers,
    )
    ws, mses, nlls = lab.line_curve(fit)
    charts["line_nll"] = xy_chart(
        [Series(gettext("−log L"), ws.tolist(), nlls.tolist())],
        x_label=gettext("slope w (b at its best value)"),
        y_label=gettext("−log L(w)"),
        title=gettext("Negative log-likelihood of the line"),
        x_range=(float(ws[0]), float(ws[-1])),
        markers=[
            Marker(state.wc, fit.nll_candidate, here, BLUE),
            Marker(fit.w_hat, fit.nll_hat, mle, ORANGE),
        ],
        colours=[GREEN],
        height=250,
        numbers=numbers,
        drag_input="wc",
    )
    charts["line_likelihood"] = xy_chart(
        [Series(gettext("likelihood"), ws.tolist(), np.exp(fit.nll_hat - nlls).tolist())],
        x_label=gettext("slope w (b at its best value)"),
        y_label=gettext("L(w) ÷ its maximum"),
        title=gettext("Likelihood of the line"),
        x_range=(float(ws[0]), float(ws[-1])),
        y_range=(0.0, 1.0),
        markers=[
            Marker(state.wc, math.exp(fit.nll_hat - fit.nll_candidate), here, BLUE),
            Marker(fit.w_hat, 1.0, mle, ORANGE),
        ],
        colours=[BLUE],
        height=250,
        numbers=numbers,
        drag_input="wc",
    )
    sat = measured["saturation"]
    zs, g_mse, g_bce = lab.saturation_curves()
    charts["saturation"] = xy_chart(
        [
            Series(gettext("sigmoid + MSE"), zs.tolist(), g_mse.tolist()),
            Series(gettext("sigmoid + cross-entropy"), zs.tolist(), g_bce.tolist()),
        ],
        x_label=gettext("logit z (the label is 1)"),
        y_label=gettext("|dL/dz| (log scale)"),
        title=gettext("How hard each loss pushes the logit"),
        log_y=True,
        x_range=(-10.0, 10.0),
        markers=[
            Marker(sat.z, abs(sat.dmse_dz), here, BLUE),
            Marker(sat.z, abs(sat.dbce_dz), "", ORANGE),
        ],
        colours=[BLUE, ORANGE],
        height=300,
        numbers=numbers,
        drag_input="zs",
    )
    return charts
