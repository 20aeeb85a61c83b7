"""Altair charts for the pages. Pure functions from frames to charts; colors from the one grade
table; SVG renderer so every mark is an accessible, clickable element."""

from __future__ import annotations

import functools
import json

import altair as alt
import pandas as pd

from assessment.intake.divisions import short_name
from assessment.rules.grades import display, legend

SVG = {"embedOptions": {"renderer": "svg", "actions": False}}
TEXTS = [text for _, text, _ in legend()]
COLORS = [hex_ for _, _, hex_ in legend()]
GRADE_SCALE = alt.Scale(domain=TEXTS, range=COLORS)
TEXT_ON = {"绿·好": "white", "蓝·较好": "white", "红·差": "white"}
# a label on a colored tile: white on the dark colors, near-black on the light ones
LABEL_COLOR = alt.condition(
    alt.FieldOneOfPredicate(field="grade_text", oneOf=list(TEXT_ON)),
    alt.value("white"),
    alt.value("#222"),
)


def _grade_text(keys: pd.Series) -> pd.Series:
    return keys.fillna("").astype(str).map(display)


def tile_layout(units: pd.DataFrame, group: str, columns: int) -> pd.DataFrame:
    """x, y for a grid of tiles grouped (one block of rows per group, a title row above each)."""
    rows, y = [], 0
    for name, block in units.groupby(group, sort=False):
        rows.append({"kind": "title", "x": 0, "y": y, "title": str(name)})
        y += 1
        for i, rec in enumerate(block.to_dict("records")):
            rows.append({**rec, "kind": "tile", "x": i % columns, "y": y + i // columns})
        y += (len(block) + columns - 1) // columns
    return pd.DataFrame(rows)


TILE = 112  # px: a graded unit's tile


def tile_grid(
    units: pd.DataFrame,
    group: str = "parent_name",
    columns: int = 8,
    name: str = "pick",
    tile: int = TILE,
) -> dict:
    """One tile per unit (``tile`` px wide): its color, name and label; click selects
    ``unit_code``. A Vega-Lite spec for ``st.vega_lite_chart``: the chart is built and checked
    by Altair once per shape (``_tile_spec``) and only its data and height change per call;
    building and validating it anew cost about 0.15 s of every map page's run."""
    data = units.assign(grade_text=_grade_text(units["grade"]))
    data["label"] = data["unit_name"].map(short_name) + "\n" + data["grade_text"]
    if "borderline" in data:  # a 边界单位 says so on its tile
        data["label"] = data["label"].where(~data["borderline"], data["label"] + "·边界")
    if "moved" not in data:
        data["moved"] = False
    fields = [f for f in TILE_FIELDS if f in data]
    layout = tile_layout(data[[group, *fields]], group, columns)
    if "kind" not in layout:  # no units at all
        layout = pd.DataFrame(columns=["kind", "x", "y", "title", *fields])
    n_rows = int(layout["y"].max()) + 1 if len(layout) else 1
    spec = json.loads(_tile_spec(columns, name, tile))
    for layer in spec["layer"]:
        layer["encoding"]["y"]["scale"]["domain"] = list(range(n_rows))
    spec["height"] = n_rows * 46
    spec["datasets"] = {
        "tiles": layout.loc[layout["kind"] == "tile", ["x", "y", *fields]].reset_index(drop=True),
        "titles": layout.loc[layout["kind"] == "title", ["x", "y", "title"]].reset_index(drop=True),
    }
    return spec


ZOOM = {"columns": 5, "name": "zoom", "tile": 170}  # the map's levels above the graded units
PHONE_WIDTH = 340  # px of a phone's page (390 px less its margins) a chart is drawn in


def for_phone(shape: dict) -> dict:
    """A tile shape with as many columns as a phone's width holds (3 units, or 2 of the
    levels above), instead of eight squeezed into it with their labels run together."""
    return {**shape, "columns": max(1, PHONE_WIDTH // shape.get("tile", TILE))}


def warm_specs() -> None:
    """The map's tile shapes (the graded units, and the levels above them, on a desk and on a
    phone) built once at server start: Altair's first chart loads and checks its schema,
    0.16 s on a quiet machine and up to 0.5 s of a first session's run on a server still
    warming up."""
    empty = pd.DataFrame(columns=["unit_code", "unit_name", "grade", "score", "reasons"])
    for shape in ({}, ZOOM, for_phone({}), for_phone(ZOOM)):
        tile_grid(empty.assign(parent_name=""), **shape)


# what a tile's marks and tooltip read (the rest of a unit's row is not sent to the browser)
TILE_FIELDS = ["unit_code", "unit_name", "grade_text", "score", "reasons", "label", "moved"]


@functools.cache
def _tile_spec(columns: int, name: str, tile: int) -> str:
    """The tile map's Vega-Lite spec (JSON) with named datasets ``tiles`` and ``titles``,
    built by Altair and validated against the schema once."""
    pick = alt.selection_point(name=name, fields=["unit_code"], on="click")
    x = alt.X("x:O", axis=None, scale=alt.Scale(domain=list(range(columns))))
    y = alt.Y("y:O", axis=None, scale=alt.Scale(domain=[0]))  # the rows: set per call
    base = alt.Chart(alt.NamedData("tiles")).encode(x=x, y=y)
    rect = (
        base.mark_rect(stroke="white", strokeWidth=3, cornerRadius=4)
        .encode(
            color=alt.Color("grade_text:N", scale=GRADE_SCALE, legend=None),
            opacity=alt.condition(pick, alt.value(1), alt.value(0.55)),
            # units flagged ``moved`` (e.g. changing color under a weight change) get a frame
            stroke=alt.condition("datum.moved", alt.value("#111"), alt.value("white")),
            strokeWidth=alt.condition("datum.moved", alt.value(4), alt.value(3)),
            tooltip=[
                alt.Tooltip("unit_name:N", title="单位"),
                alt.Tooltip("grade_text:N", title="等级"),
                alt.Tooltip("score:Q", title="总分", format=".1f"),
                alt.Tooltip("reasons:N", title="原因"),
            ],
        )
        .add_params(pick)
    )
    text = base.mark_text(
        lineBreak="\n", fontSize=11, fontWeight="bold", limit=tile - 8, ellipsis="…"
    ).encode(
        text="label:N",
        color=LABEL_COLOR,
    )
    title = (
        alt.Chart(alt.NamedData("titles"))
        .mark_text(align="left", dx=-50, fontSize=13, fontWeight="bold", color="#333")
        .encode(x=x, y=y, text="title:N")
    )
    chart = (rect + text + title).properties(width=columns * tile, height=46, usermeta=SVG)
    spec = chart.to_dict()
    spec.pop("config", None)  # Altair's default view size, which Streamlit's charts leave out
    return json.dumps(spec, ensure_ascii=False)


def color_key() -> alt.Chart:
    """The five colors and 数据不全 as a row of labelled tiles: the key to every map. Shown on
    the sign-in page, it also has the browser load the chart engine while the user types."""
    keys = pd.DataFrame({"grade_text": TEXTS, "x": range(len(TEXTS))})
    base = alt.Chart(keys).encode(x=alt.X("x:O", axis=None), y=alt.value(18))
    rect = base.mark_rect(width=104, height=34, cornerRadius=4).encode(
        color=alt.Color("grade_text:N", scale=GRADE_SCALE, legend=None)
    )
    text = base.mark_text(fontSize=13, fontWeight="bold").encode(
        text="grade_text:N",
        color=LABEL_COLOR,
    )
    return (rect + text).properties(width=len(TEXTS) * 112, height=36, usermeta=SVG)


def score_trend(history: pd.DataFrame, min_scores: list[float]) -> alt.Chart:
    """A unit's score over the months, on the grade bands."""
    edges = [100.0, *min_scores, 0.0]
    bands = pd.DataFrame({"top": edges[:-1], "bottom": edges[1:], "grade_text": TEXTS[:5]})
    band = (
        alt.Chart(bands)
        .mark_rect(opacity=0.18)
        .encode(
            y=alt.Y(
                "bottom:Q",
                title="总分",
                scale=alt.Scale(
                    domain=[
                        max(0, min(history["score"].min() - 10, min_scores[-1] - 5))
                        if len(history) and history["score"].notna().any()
                        else 0,
                        100,
                    ]
                ),
            ),
            y2="top:Q",
            color=alt.Color("grade_text:N", scale=GRADE_SCALE, legend=alt.Legend(title="等级")),
        )
    )
    data = history.assign(grade_text=_grade_text(history["grade"]))
    base = alt.Chart(data).encode(x=alt.X("period:O", title="月份"), y="score:Q")
    line = base.mark_line(color="#333")
    # each month's point in the color it was given (an escalated or vetoed red is red, even
    # when its score sits in the orange band), with the grade written above it
    points = base.mark_point(size=110, filled=True, stroke="#222", strokeWidth=1).encode(
        color=alt.Color("grade_text:N", scale=GRADE_SCALE, legend=None),
        tooltip=[
            alt.Tooltip("period:O", title="月份"),
            alt.Tooltip("score:Q", format=".1f", title="总分"),
            alt.Tooltip("grade_text:N", title="等级"),
        ],
    )
    labels = base.mark_text(dy=-14, fontSize=11, color="#222").encode(text="grade_text:N")
    return (band + line + points + labels).properties(height=280, usermeta=SVG)


def dimension_bars(dims: pd.DataFrame) -> alt.Chart:
    """Dimension scores with their floors marked."""
    bars = (
        alt.Chart(dims)
        .mark_bar(color="#4a6fa5")
        .encode(
            x=alt.X("score:Q", title="得分", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("name:N", title=None, sort=None),
            tooltip=[
                alt.Tooltip("name:N", title="维度"),
                alt.Tooltip("score:Q", format=".1f", title="得分"),
            ],
        )
    )
    floors = (
        alt.Chart(dims.dropna(subset=["floor"]))
        .mark_tick(color="#d7261e", thickness=3, size=22)
        .encode(x="floor:Q", y=alt.Y("name:N", sort=None))
    )
    return (bars + floors).properties(height=34 * len(dims), usermeta=SVG)


def grade_heatmap(history: pd.DataFrame, group: str = "street", columns: int = 3) -> alt.Chart:
    """Unit x month, each cell the month's color (its label in the tooltip), one block per
    street with every unit labelled and rows of a fixed height; a click selects ``unit_code``
    (selection ``unit_pick``)."""
    data = history.assign(grade_text=_grade_text(history["grade"]))
    months = sorted(data["period"].unique())
    pick = alt.selection_point(name="unit_pick", fields=["unit_code"], on="click")
    cells = (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(
                "period:O",
                title=None,
                sort=months,
                axis=alt.Axis(
                    orient="top",
                    labelAngle=-60,
                    labelOverlap=False,
                    labelFontSize=9,
                    labelExpr="slice(datum.value, 2)",
                ),
            ),
            y=alt.Y(
                "unit_name:N",
                title=None,
                sort=alt.EncodingSortField("unit_code"),
                axis=alt.Axis(labelLimit=90, labelOverlap=False),
            ),
            color=alt.Color(
                "grade_text:N", scale=GRADE_SCALE, legend=alt.Legend(title="等级", orient="top")
            ),
            opacity=alt.condition(pick, alt.value(1), alt.value(0.6)),
            tooltip=[
                alt.Tooltip("unit_name:N", title="单位"),
                alt.Tooltip("period:O", title="月份"),
                alt.Tooltip("grade_text:N", title="等级"),
                alt.Tooltip("score:Q", format=".1f", title="总分"),
            ],
        )
        .add_params(pick)
        .properties(width=alt.Step(19), height=alt.Step(16))
    )
    if group not in data.columns or data[group].nunique() <= 1:
        return cells.properties(usermeta=SVG)
    return (
        cells.facet(
            facet=alt.Facet(f"{group}:N", title=None, header=alt.Header(labelFontWeight="bold")),
            columns=min(columns, data[group].nunique()),
        )
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")  # the months above every street, not only the first row
        .properties(usermeta=SVG)
    )


def transition_heatmap(trans: pd.DataFrame) -> alt.Chart:
    """How many units went from each color to each color between consecutive months."""
    data = trans.assign(
        from_text=_grade_text(trans["from_grade"]), to_text=_grade_text(trans["to_grade"])
    )
    base = alt.Chart(data).encode(
        x=alt.X("to_text:N", title="本月", sort=TEXTS),
        y=alt.Y("from_text:N", title="上月", sort=TEXTS),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="greys"), legend=None),
        tooltip=[
            alt.Tooltip("from_text:N", title="上月"),
            alt.Tooltip("to_text:N", title="本月"),
            alt.Tooltip("count:Q", title="单位数"),
        ],
    )
    labels = base.mark_text(fontSize=13).encode(
        text="count:Q",
        color=alt.condition(
            alt.datum.count > trans["count"].max() / 2, alt.value("white"), alt.value("black")
        ),
    )
    return (cells + labels).properties(width=420, height=300, usermeta=SVG)


def level_progress(fair: pd.DataFrame) -> alt.Chart:
    """Each unit's score (x) against its three-month change (y), in the color of its grade."""
    data = fair.dropna(subset=["score", "progress"]).assign(
        grade_text=lambda f: _grade_text(f["grade"])
    )
    points = (
        alt.Chart(data)
        .mark_circle(size=70, opacity=0.85, stroke="#222", strokeWidth=0.5)
        .encode(
            x=alt.X("score:Q", title="得分", scale=alt.Scale(zero=False)),
            y=alt.Y("progress:Q", title="近三个月变化(分)"),
            color=alt.Color("grade_text:N", scale=GRADE_SCALE, legend=alt.Legend(title="等级")),
            tooltip=[
                alt.Tooltip("unit_name:N", title="单位"),
                alt.Tooltip("grade_text:N", title="等级"),
                alt.Tooltip("score:Q", format=".1f", title="得分"),
                alt.Tooltip("progress:Q", format="+.1f", title="近三个月"),
                alt.Tooltip("peer_group:N", title="同类"),
                alt.Tooltip("profile:N", title="判断"),
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#888").encode(y="y:Q")
    return (zero + points).properties(height=360, usermeta=SVG)
