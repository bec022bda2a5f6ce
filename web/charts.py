"""Charts as server-rendered SVG: no script, no style attributes (the CSP allows neither),
colours as SVG presentation attributes, every label escaped, a `<title>` for screen
readers (each page also shows the numbers as a table).

- `split_chart`: a revenue-share split, one bar per tier band cut into the parties' parts,
  and a last bar of each party's total (the waterfall of `contracts.allocation`).
- `bar_chart`: grouped bars, e.g. each period's revenue, costs, value added and payouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Series", "bar_chart", "split_chart"]

#: Colour-blind-safe (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000")
_WIDTH = 640


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values (minor units), e.g. a party's part of each band."""

    name: str
    values: tuple[int, ...]


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#222">{escape(text)}</text>'
    )


def _money(minor: int, digits: int) -> str:
    if digits == 0:
        return f"{minor:,}"
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits)
    return f"{sign}{whole:,}.{frac:0{digits}d}"


def split_chart(
    *,
    title: str,
    bands: Sequence[str],
    parties: Sequence[Series],
    digits: int,
    currency: str,
) -> Markup:
    """Horizontal stacked bars: one per band (label in `bands`), segments per party."""
    rows = len(bands)
    height = 40 + rows * 34 + 30 + 22 * ((len(parties) + 2) // 3)
    totals = [sum(p.values[i] for p in parties) for i in range(rows)]
    scale = max([*totals, 1])
    left, right = 150, _WIDTH - 110
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        _text(0, 16, title, size=14),
    ]
    for i, label in enumerate(bands):
        y = 32 + i * 34
        out.append(_text(left - 8, y + 17, label, anchor="end"))
        x = float(left)
        for n, party in enumerate(parties):
            w = (right - left) * party.values[i] / scale
            if w > 0:
                colour = PALETTE[n % len(PALETTE)]
                tip = f"{party.name}: {_money(party.values[i], digits)} {currency}"
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="24" fill="{colour}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
                x += w
        out.append(_text(x + 6, y + 17, f"{_money(totals[i], digits)} {currency}"))
    legend_y = 32 + rows * 34 + 16
    for n, party in enumerate(parties):
        x, y = (n % 3) * 210, legend_y + (n // 3) * 22
        colour = PALETTE[n % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}"/>')
        out.append(_text(x + 20, y, party.name[:28]))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every text in it went through escape())


def bar_chart(
    *,
    title: str,
    groups: Sequence[str],
    series: Sequence[Series],
    digits: int,
    currency: str,
) -> Markup:
    """Vertical grouped bars: one group per label in `groups`, one bar per series."""
    height, top, bottom = 280, 30, 230
    values = [v for s in series for v in s.values]
    high = max([*values, 1])
    low = min([*values, 0])
    span = high - low
    zero = top + (bottom - top) * high / span
    count = max(len(groups), 1)
    group_w = (_WIDTH - 60) / count
    bar_w = max(4.0, min(40.0, (group_w - 16) / max(len(series), 1)))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height + 24}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        _text(0, 16, title, size=14),
        f'<line x1="50" y1="{zero:.1f}" x2="{_WIDTH}" y2="{zero:.1f}" stroke="#555"/>',
        _text(46, top + 4, _money(high, digits), anchor="end", size=10),
    ]
    for g, label in enumerate(groups):
        gx = 60 + g * group_w
        for n, s in enumerate(series):
            v = s.values[g]
            h = (bottom - top) * abs(v) / span
            y = zero - h if v >= 0 else zero
            colour = PALETTE[n % len(PALETTE)]
            tip = f"{label} {s.name}: {_money(v, digits)} {currency}"
            out.append(
                f'<rect x="{gx + n * bar_w:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
        out.append(_text(gx + len(series) * bar_w / 2, bottom + 18, label, anchor="middle"))
    for n, s in enumerate(series):
        x = 60 + n * 150
        colour = PALETTE[n % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{height - 2}" width="14" height="14" fill="{colour}"/>')
        out.append(_text(x + 20, height + 10, s.name))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every text in it went through escape())
