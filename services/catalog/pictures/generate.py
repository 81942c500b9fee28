#!/usr/bin/env python3
"""Generate one flat SVG illustration per product in the catalog seed.

Reads ids, names and categories from ../migrations/0002_seed.sql (regex, no
SQL parser) and writes <id>.svg next to this script. Standard library only;
output is fully deterministic (colours come from fixed tables, the choice of
drawing from keywords in the product id, with a per-category fallback).

    python3 services/catalog/pictures/generate.py
"""

import html
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
SEED = HERE.parent / "migrations" / "0002_seed.sql"

LIT = r"'((?:[^']|'')*)'"
ROW = re.compile(
    r"\(\s*" + LIT + r"\s*,\s*" + LIT + r"\s*,\s*" + LIT + r"\s*,\s*" + LIT
    + r"\s*,\s*\d+\s*,\s*'[A-Z]{3}'\s*,\s*ARRAY\[([^\]]*)\]\s*\)"
)
ID_RE = re.compile(r"^[a-z0-9-]{1,64}$")

# Background gradient (top-left, bottom-right) and accent per category.
PALETTE = {
    "kitchen": ("#fdf0e2", "#f4cfae", "#c8643b"),
    "home": ("#f3eefc", "#d9cdf1", "#7a5ea8"),
    "garden": ("#eef8e6", "#c9e6b3", "#4f8a3a"),
    "accessories": ("#fcf1ea", "#ecd3c1", "#9a5b3c"),
    "footwear": ("#eef2f6", "#cbd6e2", "#3f5d7d"),
    "tops": ("#fdeff2", "#f2c9d3", "#b44a66"),
    "tech": ("#e9f4fb", "#bcdcef", "#2d6f99"),
    "books": ("#fbf6e4", "#eddca6", "#8a6d1f"),
    "outdoors": ("#e8f6f3", "#b5e0d6", "#2f7f6e"),
}
DEFAULT_PALETTE = ("#f2f2f2", "#d6d6d6", "#555555")

# Material keywords (in id) -> main object colour.
MATERIALS = [
    ("walnut", "#6b4428"), ("brass", "#c9a13b"), ("copper", "#c57645"),
    ("terracotta", "#c8643b"), ("cedar", "#a0603a"), ("leather", "#8a5230"),
    ("ceramic", "#e9e4da"), ("stoneware", "#cfc3ae"), ("linen", "#d8c9a8"),
    ("wool", "#b9a48a"), ("merino", "#5f6f8c"), ("cotton", "#f7f5ef"),
    ("flannel", "#a8423a"), ("cast-iron", "#3a3a3c"), ("steel", "#9aa3ad"),
    ("enamel", "#3f8f8a"), ("canvas", "#d9ccb0"), ("ash", "#d8b98a"),
    ("soy", "#efe6d2"), ("rain", "#e0a82e"), ("trail", "#e0663a"),
    ("insulated", "#2f7f6e"), ("braided", "#3b3f46"),
]


def shade(hex_colour, f):
    """Mix towards white (f > 0) or black (f < 0)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    t = 255 if f > 0 else 0
    f = abs(f)
    return "#%02x%02x%02x" % tuple(round(c + (t - c) * f) for c in (r, g, b))


# --- drawings: each takes (main, dark, light, accent) and returns SVG markup
# centred on roughly (200, 185) inside a 400x400 canvas.

def d_pourover(c, d, l, a):
    return (f'<path d="M150 240h100l-10 70h-80z" fill="#cfe3ea" opacity=".8"/>'
            f'<rect x="160" y="270" width="80" height="30" fill="#6b4428" opacity=".8"/>'
            f'<path d="M130 130h140l-40 80h-60z" fill="{c}" stroke="{d}" stroke-width="4"/>'
            f'<rect x="145" y="210" width="110" height="14" rx="6" fill="{d}"/>'
            f'<path d="M270 145q30 5 10 40" fill="none" stroke="{d}" stroke-width="8"/>')


def _mug(x, c, d):
    return (f'<rect x="{x}" y="150" width="90" height="110" rx="12" fill="{c}" stroke="{d}" stroke-width="4"/>'
            f'<path d="M{x + 90} 175q40 0 40 30t-40 30" fill="none" stroke="{d}" stroke-width="10"/>'
            f'<rect x="{x}" y="150" width="90" height="16" rx="6" fill="{d}" opacity=".5"/>')


def d_mugs(c, d, l, a):
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="2" fill="{d}"/>'
                   for x, y in ((115, 200), (140, 230), (125, 245), (225, 190), (250, 225), (235, 240)))
    return _mug(95, c, d) + _mug(205, shade(c, -.1), d) + dots


def d_board(c, d, l, a):
    return (f'<rect x="90" y="120" width="220" height="150" rx="18" fill="{c}"/>'
            f'<rect x="310" y="175" width="40" height="40" rx="10" fill="{c}"/>'
            f'<circle cx="334" cy="195" r="8" fill="{l}"/>'
            f'<rect x="105" y="135" width="190" height="120" rx="12" fill="none" stroke="{d}" stroke-width="4"/>'
            f'<path d="M120 170q60-12 160 0M120 200q70 10 160 0M120 230q60-10 160 0" fill="none" stroke="{d}" stroke-width="3" opacity=".6"/>')


def d_skillet(c, d, l, a):
    return (f'<rect x="230" y="182" width="140" height="26" rx="13" fill="{c}"/>'
            f'<circle cx="350" cy="195" r="6" fill="{l}"/>'
            f'<circle cx="160" cy="195" r="100" fill="{c}"/>'
            f'<circle cx="160" cy="195" r="82" fill="{shade(c, .15)}"/>'
            f'<path d="M68 195h-18" stroke="{c}" stroke-width="16" stroke-linecap="round"/>')


def d_kettle(c, d, l, a):
    return (f'<path d="M140 150q60-70 120 0" fill="none" stroke="#6b4428" stroke-width="14" stroke-linecap="round"/>'
            f'<path d="M255 210l70-40-8 20-52 50z" fill="{d}"/>'
            f'<path d="M120 280q-10-110 80-120q90 10 80 120z" fill="{c}"/>'
            f'<rect x="110" y="270" width="180" height="18" rx="9" fill="{d}"/>'
            f'<ellipse cx="200" cy="165" rx="40" ry="10" fill="{d}"/>'
            f'<circle cx="200" cy="152" r="9" fill="#6b4428"/>'
            f'<path d="M150 220q10-30 30-40" fill="none" stroke="{l}" stroke-width="8" stroke-linecap="round"/>')


def d_lamp(c, d, l, a):
    return (f'<path d="M215 160l-40 140" stroke="{l}" stroke-width="90" opacity=".25"/>'
            f'<ellipse cx="200" cy="300" rx="70" ry="16" fill="{d}"/>'
            f'<path d="M200 295l-40-90 80-80" fill="none" stroke="{c}" stroke-width="10" stroke-linejoin="round"/>'
            f'<circle cx="160" cy="205" r="10" fill="{d}"/>'
            f'<path d="M205 100l80 30-30 60z" fill="{c}" stroke="{d}" stroke-width="4"/>'
            f'<circle cx="245" cy="165" r="10" fill="#fff6c8"/>')


def d_blanket(c, d, l, a):
    fringe = "".join(f'<path d="M{x} 280v18" stroke="{d}" stroke-width="4"/>' for x in range(110, 300, 14))
    return (f'<rect x="95" y="110" width="210" height="60" rx="14" fill="{shade(c, -.15)}"/>'
            f'<rect x="95" y="165" width="210" height="60" rx="14" fill="{c}"/>'
            f'<rect x="95" y="220" width="210" height="62" rx="14" fill="{shade(c, .2)}"/>'
            f'<path d="M95 195h210M95 250h210" stroke="{a}" stroke-width="5" opacity=".6"/>' + fringe)


def d_vase(c, d, l, a):
    return (f'<path d="M200 150q-20-60-60-80M200 150q10-70 50-90M200 150q0-60 0-90" fill="none" stroke="#4f8a3a" stroke-width="5"/>'
            f'<ellipse cx="140" cy="70" rx="16" ry="9" fill="#4f8a3a"/><ellipse cx="250" cy="60" rx="16" ry="9" fill="#7fb069"/>'
            f'<circle cx="200" cy="60" r="12" fill="#e8b04b"/>'
            f'<path d="M185 140h30v25q45 30 40 90q-5 45-55 45t-55-45q-5-60 40-90z" fill="{c}" stroke="{d}" stroke-width="4"/>'
            f'<path d="M160 230q5-30 25-45" fill="none" stroke="#fff" stroke-width="8" stroke-linecap="round" opacity=".7"/>')


def d_cushion(c, d, l, a):
    return (f'<ellipse cx="200" cy="275" rx="125" ry="30" fill="{d}"/>'
            f'<rect x="75" y="150" width="250" height="125" rx="40" fill="{c}"/>'
            f'<ellipse cx="200" cy="152" rx="125" ry="32" fill="{shade(c, .2)}"/>'
            f'<path d="M110 180v80M145 185v85M180 188v88M220 188v88M255 185v85M290 180v80" stroke="{d}" stroke-width="4" opacity=".5"/>'
            f'<circle cx="200" cy="152" r="10" fill="{d}"/>')


def d_candle(c, d, l, a):
    return (f'<circle cx="200" cy="120" r="40" fill="#ffe08a" opacity=".35"/>'
            f'<path d="M200 95q18 25 0 45q-18-20 0-45z" fill="#f29f3d"/>'
            f'<path d="M200 140v20" stroke="#333" stroke-width="4"/>'
            f'<rect x="130" y="150" width="140" height="150" rx="18" fill="#b86b25" opacity=".85"/>'
            f'<rect x="140" y="160" width="120" height="20" rx="8" fill="{c}"/>'
            f'<rect x="150" y="205" width="100" height="55" rx="6" fill="#fdf8ee"/>'
            f'<path d="M165 225h70M175 242h50" stroke="#b86b25" stroke-width="4"/>')


def d_watering_can(c, d, l, a):
    return (f'<path d="M255 230l80-80" stroke="{c}" stroke-width="14" stroke-linecap="round"/>'
            f'<rect x="320" y="125" width="30" height="36" rx="6" transform="rotate(45 335 143)" fill="#c9a13b"/>'
            f'<path d="M120 160q80-80 150 0" fill="none" stroke="{d}" stroke-width="14"/>'
            f'<rect x="110" y="160" width="160" height="130" rx="16" fill="{c}"/>'
            f'<rect x="110" y="185" width="160" height="10" fill="{d}" opacity=".5"/>'
            f'<path d="M130 215v50" stroke="{l}" stroke-width="8" stroke-linecap="round" opacity=".7"/>')


def d_planter(c, d, l, a):
    leaves = "".join(f'<ellipse cx="{x}" cy="{y}" rx="15" ry="30" transform="rotate({r} {x} {y})" fill="{g}"/>'
                     for x, y, r, g in ((160, 140, -30, "#4f8a3a"), (200, 120, 0, "#6fa84f"), (240, 140, 30, "#4f8a3a"),
                                        (180, 150, -10, "#7fb069"), (222, 150, 15, "#7fb069")))
    return (leaves + f'<rect x="110" y="170" width="180" height="30" rx="6" fill="{shade(c, -.12)}"/>'
            f'<path d="M125 200h150l-18 95h-114z" fill="{c}"/>'
            f'<rect x="120" y="292" width="160" height="12" rx="6" fill="{d}"/>')


def d_trowel(c, d, l, a):
    return ('<g transform="rotate(-35 200 200)">'
            f'<rect x="180" y="40" width="40" height="120" rx="18" fill="{c}" stroke="{d}" stroke-width="3"/>'
            f'<circle cx="200" cy="60" r="6" fill="{d}"/>'
            '<rect x="193" y="155" width="14" height="35" fill="#7a7f86"/>'
            '<path d="M200 180q55 10 50 80q-10 60-50 95q-40-35-50-95q-5-70 50-80z" fill="#c4cad1" stroke="#7a7f86" stroke-width="4"/>'
            '<path d="M200 200v120" stroke="#7a7f86" stroke-width="3"/></g>')


def d_feeder(c, d, l, a):
    return (f'<path d="M200 55v40" stroke="{d}" stroke-width="4"/>'
            f'<path d="M200 95l-115 75h230z" fill="{d}"/>'
            f'<rect x="115" y="170" width="170" height="120" fill="{c}"/>'
            f'<rect x="135" y="190" width="130" height="75" fill="#d6eef5" opacity=".8"/>'
            f'<rect x="135" y="235" width="130" height="30" fill="#e2b659"/>'
            f'<rect x="95" y="285" width="210" height="14" rx="6" fill="{d}"/>'
            f'<path d="M120 305h-40M280 305h40" stroke="{d}" stroke-width="6" stroke-linecap="round"/>')


def d_wallet(c, d, l, a):
    return (f'<rect x="140" y="110" width="130" height="85" rx="8" fill="#3f8f8a" transform="rotate(-8 205 150)"/>'
            f'<rect x="105" y="140" width="190" height="140" rx="16" fill="{c}"/>'
            f'<rect x="117" y="152" width="166" height="116" rx="10" fill="none" stroke="{l}" stroke-width="3" stroke-dasharray="8 6"/>'
            f'<path d="M105 190h190" stroke="{d}" stroke-width="4"/>')


def d_tote(c, d, l, a):
    return (f'<path d="M150 150v-40q50-50 100 0v40" fill="none" stroke="{d}" stroke-width="12"/>'
            f'<path d="M100 140h200l-12 170h-176z" fill="{c}"/>'
            f'<rect x="150" y="200" width="100" height="60" rx="6" fill="{a}" opacity=".8"/>'
            f'<path d="M100 160h200" stroke="{d}" stroke-width="4" opacity=".5"/>')


def d_backpack(c, d, l, a):
    return (f'<path d="M170 90q30-30 60 0" fill="none" stroke="{d}" stroke-width="10"/>'
            f'<rect x="120" y="90" width="160" height="220" rx="40" fill="{c}"/>'
            f'<path d="M120 140q80 40 160 0v-10q-80-40-160 0z" fill="{shade(c, -.15)}"/>'
            f'<rect x="150" y="135" width="20" height="70" rx="4" fill="#8a5230"/><rect x="230" y="135" width="20" height="70" rx="4" fill="#8a5230"/>'
            f'<rect x="152" y="190" width="16" height="14" fill="none" stroke="#c9a13b" stroke-width="4"/><rect x="232" y="190" width="16" height="14" fill="none" stroke="#c9a13b" stroke-width="4"/>'
            f'<rect x="150" y="230" width="100" height="60" rx="14" fill="{shade(c, -.1)}"/>')


def d_watch(c, d, l, a):
    ticks = "".join(f'<path d="M200 118v14" stroke="#333" stroke-width="4" transform="rotate({r} 200 195)"/>' for r in range(0, 360, 30))
    return (f'<rect x="170" y="45" width="60" height="295" rx="14" fill="#8a5230"/>'
            f'<path d="M180 60v265M220 60v265" stroke="#5e3620" stroke-width="2" stroke-dasharray="6 5"/>'
            f'<circle cx="200" cy="195" r="92" fill="{c}"/><circle cx="200" cy="195" r="80" fill="#1f2a2e"/>'
            f'<rect x="288" y="185" width="14" height="20" rx="3" fill="{c}"/>'
            + ticks.replace("#333", "#e6e6e6") +
            '<path d="M200 195v-55M200 195l38 22" stroke="#d8f5a0" stroke-width="6" stroke-linecap="round"/>'
            '<circle cx="200" cy="195" r="6" fill="#e6e6e6"/>')


def d_beanie(c, d, l, a):
    ribs = "".join(f'<path d="M{x} 236v50" stroke="{d}" stroke-width="4" opacity=".5"/>' for x in range(125, 285, 16))
    return (f'<circle cx="200" cy="85" r="32" fill="{shade(c, .3)}"/>'
            f'<path d="M110 240q-10-130 90-130t90 130z" fill="{c}"/>'
            f'<rect x="100" y="230" width="200" height="60" rx="14" fill="{shade(c, -.1)}"/>' + ribs)


def d_shoe(c, d, l, a, style="sneaker"):
    if style == "boot":
        return (f'<path d="M120 90h90v130q50 10 110 25q20 10 20 45v10h-220z" fill="{c}"/>'
                f'<rect x="130" y="120" width="70" height="90" rx="30" fill="#333" opacity=".55"/>'
                f'<rect x="185" y="75" width="20" height="30" rx="6" fill="{d}"/>'
                f'<rect x="115" y="298" width="230" height="20" rx="6" fill="#2b2b2b"/>'
                f'<path d="M125 292h210" stroke="{l}" stroke-width="3" stroke-dasharray="7 5"/>')
    if style == "slipper":
        return (f'<path d="M80 280q0-40 60-50q80-10 120-50q70 0 70 80v20h-250z" fill="{c}"/>'
                f'<path d="M260 180q-20 50-80 60" fill="none" stroke="{d}" stroke-width="4"/>'
                f'<rect x="75" y="290" width="260" height="16" rx="8" fill="#8a5230"/>')
    sole = "#2b2b2b" if style == "trail" else "#f6f2e8"
    lugs = "".join(f'<rect x="{x}" y="310" width="16" height="10" fill="#2b2b2b"/>' for x in range(90, 330, 28)) if style == "trail" else ""
    lace = "".join(f'<path d="M{150 + i * 18} {210 - i * 10}l22 12" stroke="#fff" stroke-width="5"/>' for i in range(4))
    return (f'<path d="M70 260q0-40 40-40q60 0 80-40l60-30q40 50 90 80q20 15 20 50v20h-290z" fill="{c}"/>'
            f'<path d="M250 150q40 50 90 80q20 15 20 50v20h-40q-20-90-90-140z" fill="{shade(c, -.15)}"/>'
            + lace + f'<rect x="66" y="290" width="298" height="22" rx="10" fill="{sole}"/>' + lugs)


def d_top(c, d, l, a, style="tee"):
    if style == "tee":
        sleeves = f'<path d="M140 95l-80 45 30 55 40-20zM260 95l80 45-30 55-40-20z" fill="{shade(c, -.06)}"/>'
    else:
        sleeves = f'<path d="M140 95l-60 40-25 160h40l30-125zM260 95l60 40 25 160h-40l-30-125z" fill="{shade(c, -.06)}"/>'
    body = f'<path d="M140 95q60 20 120 0l10 215h-140z" fill="{c}" stroke="{d}" stroke-width="3"/>'
    extra = ""
    if style == "sweater":
        extra = (f'<rect x="130" y="295" width="140" height="18" rx="4" fill="{d}" opacity=".6"/>'
                 f'<path d="M56 285h38M306 285h38" stroke="{d}" stroke-width="12" opacity=".6"/>')
    elif style == "overshirt":
        extra = (f'<path d="M165 100v210M235 100v210M136 160h128M134 230h132" stroke="{d}" stroke-width="10" opacity=".45"/>'
                 f'<path d="M165 92l35 35 35-35" fill="{shade(c, -.2)}"/>'
                 f'<rect x="150" y="150" width="35" height="30" fill="none" stroke="{d}" stroke-width="3"/>'
                 f'<rect x="215" y="150" width="35" height="30" fill="none" stroke="{d}" stroke-width="3"/>'
                 + "".join(f'<circle cx="200" cy="{y}" r="4" fill="#f4ead8"/>' for y in (145, 185, 225, 265)))
    elif style == "jacket":
        extra = (f'<path d="M150 100q50-80 100 0q-50 30-100 0z" fill="{shade(c, -.2)}"/>'
                 f'<path d="M200 110v200" stroke="{d}" stroke-width="5"/>'
                 f'<path d="M160 200h25M215 200h25" stroke="{d}" stroke-width="4"/>')
    else:
        extra = f'<path d="M175 98q25 20 50 0" fill="none" stroke="{d}" stroke-width="6"/>'
    return sleeves + body + extra


def d_earbuds(c, d, l, a):
    return ('<rect x="120" y="170" width="160" height="120" rx="55" fill="#f4f6f8" stroke="#b8c2cc" stroke-width="4"/>'
            '<path d="M122 220h156" stroke="#b8c2cc" stroke-width="3"/><circle cx="200" cy="255" r="5" fill="#5ad17a"/>'
            + "".join(f'<g transform="rotate({r} {x} 120)"><circle cx="{x}" cy="120" r="26" fill="#fff" stroke="#b8c2cc" stroke-width="4"/>'
                      f'<rect x="{x - 9}" y="135" width="18" height="50" rx="9" fill="#fff" stroke="#b8c2cc" stroke-width="4"/>'
                      f'<circle cx="{x}" cy="118" r="10" fill="{a}"/></g>' for x, r in ((150, -15), (250, 15))))


def d_keyboard(c, d, l, a):
    keys = "".join(f'<rect x="{80 + col * 30}" y="{140 + row * 30}" width="24" height="24" rx="4" fill="{"#e8824a" if (row, col) in ((0, 0), (3, 8)) else "#f4f1ea"}"/>'
                   for row in range(3) for col in range(9))
    return (f'<rect x="65" y="125" width="270" height="150" rx="14" fill="#9aa3ad"/>' + keys
            + '<rect x="80" y="230" width="50" height="24" rx="4" fill="#f4f1ea"/><rect x="140" y="230" width="130" height="24" rx="4" fill="#f4f1ea"/>'
            '<rect x="280" y="230" width="44" height="24" rx="4" fill="#e8824a"/>')


def d_speaker(c, d, l, a):
    return (f'<rect x="105" y="120" width="190" height="160" rx="60" fill="{a}"/>'
            f'<rect x="105" y="160" width="190" height="80" fill="{shade(a, -.2)}"/>'
            '<circle cx="200" cy="200" r="55" fill="#23303a"/><circle cx="200" cy="200" r="25" fill="#3c4e5c"/>'
            '<path d="M310 150q25 50 0 100M330 130q40 70 0 140" fill="none" stroke="#23303a" stroke-width="6" stroke-linecap="round" opacity=".5"/>'
            '<rect x="180" y="100" width="40" height="24" rx="8" fill="#23303a"/>')


def d_cable(c, d, l, a):
    # (x, y) is where the cable meets the plug; unrotated, the plug points up.
    plug = lambda x, y, r: (f'<g transform="rotate({r} {x} {y})"><rect x="{x - 18}" y="{y - 60}" width="36" height="64" rx="8" fill="#c4cad1"/>'
                            f'<rect x="{x - 12}" y="{y - 82}" width="24" height="24" rx="8" fill="#7a7f86"/></g>')
    wire = "M120 240q-40-150 80-130t70-20"
    return (f'<path d="{wire}" fill="none" stroke="{c}" stroke-width="16" stroke-linecap="round"/>'
            f'<path d="{wire}" fill="none" stroke="{l}" stroke-width="4" stroke-dasharray="6 8"/>'
            + plug(120, 240, 180) + plug(270, 90, 30))


def d_lantern(c, d, l, a):
    return ('<circle cx="200" cy="210" r="95" fill="#ffe08a" opacity=".3"/>'
            '<path d="M150 110q50-70 100 0" fill="none" stroke="#3b3f46" stroke-width="10"/>'
            f'<rect x="135" y="105" width="130" height="30" rx="10" fill="{a}"/>'
            '<rect x="145" y="135" width="110" height="130" rx="16" fill="#fff1b8"/>'
            '<rect x="185" y="160" width="30" height="80" rx="12" fill="#ffd45c"/>'
            '<path d="M168 135v130M232 135v130" stroke="#3b3f46" stroke-width="6"/>'
            f'<rect x="130" y="262" width="140" height="36" rx="10" fill="{a}"/>')


def d_bottle(c, d, l, a):
    return ('<rect x="170" y="60" width="60" height="40" rx="10" fill="#d8b98a"/>'
            '<path d="M170 75q-25 0-25 20" fill="none" stroke="#d8b98a" stroke-width="8"/>'
            f'<path d="M175 100h50v20q35 15 35 55v125q0 20-20 20h-80q-20 0-20-20v-125q0-40 35-55z" fill="{c}"/>'
            f'<path d="M158 180v110" stroke="{l}" stroke-width="10" stroke-linecap="round" opacity=".5"/>'
            f'<rect x="140" y="215" width="120" height="40" fill="{d}" opacity=".35"/>')


def d_book(c, d, l, a, motif=""):
    icons = {
        "mushroom": '<path d="M170 200q30-50 60 0z" fill="#c8503b"/><rect x="192" y="198" width="16" height="34" rx="6" fill="#f4ead8"/>'
                    '<circle cx="188" cy="188" r="4" fill="#fff"/><circle cx="212" cy="184" r="4" fill="#fff"/>',
        "bread": '<ellipse cx="200" cy="205" rx="42" ry="28" fill="#d99a4e"/><path d="M180 195l10 18M198 190l10 20M216 195l8 16" stroke="#f6dcb0" stroke-width="4"/>',
        "pot": '<path d="M175 180h50q10 25-5 55h-40q-15-30-5-55z" fill="#e9e4da" stroke="#c8643b" stroke-width="4"/><ellipse cx="200" cy="180" rx="25" ry="6" fill="#c8643b"/>',
    }
    return (f'<path d="M110 300l20 12h170l-20-12z" fill="{shade(a, -.3)}"/>'
            '<rect x="115" y="85" width="175" height="218" rx="6" fill="#f6f1e1"/>'
            f'<rect x="105" y="80" width="180" height="220" rx="8" fill="{a}"/>'
            f'<rect x="105" y="80" width="22" height="220" fill="{shade(a, -.2)}"/>'
            '<rect x="145" y="110" width="120" height="14" rx="4" fill="#fdf8ec"/><rect x="165" y="134" width="80" height="8" rx="4" fill="#fdf8ec" opacity=".7"/>'
            '<circle cx="205" cy="210" r="50" fill="#fdf8ec" opacity=".9"/>' + icons.get(motif, ""))


# Keyword in id -> drawing. First match wins.
DRAWINGS = [
    ("pour-over", d_pourover), ("mug", d_mugs), ("cutting-board", d_board), ("skillet", d_skillet),
    ("kettle", d_kettle), ("lamp", d_lamp), ("blanket", d_blanket), ("vase", d_vase),
    ("cushion", d_cushion), ("candle", d_candle), ("watering-can", d_watering_can),
    ("planter", d_planter), ("trowel", d_trowel), ("feeder", d_feeder), ("wallet", d_wallet),
    ("tote", d_tote), ("backpack", d_backpack), ("watch", d_watch), ("beanie", d_beanie),
    ("boots", lambda *p: d_shoe(*p, style="boot")), ("slippers", lambda *p: d_shoe(*p, style="slipper")),
    ("trail", lambda *p: d_shoe(*p, style="trail")), ("sneakers", d_shoe),
    ("-tee", d_top), ("sweater", lambda *p: d_top(*p, style="sweater")),
    ("overshirt", lambda *p: d_top(*p, style="overshirt")), ("jacket", lambda *p: d_top(*p, style="jacket")),
    ("earbuds", d_earbuds), ("keyboard", d_keyboard), ("speaker", d_speaker), ("cable", d_cable),
    ("lantern", d_lantern), ("bottle", d_bottle),
    ("mushroom", lambda *p: d_book(*p, motif="mushroom")), ("sourdough", lambda *p: d_book(*p, motif="bread")),
    ("pottery", lambda *p: d_book(*p, motif="pot")),
]

# Fallback when no keyword matches: a motif for the first category.
CATEGORY_FALLBACK = {
    "kitchen": d_mugs, "home": d_candle, "garden": d_planter, "accessories": d_tote,
    "footwear": d_shoe, "tops": d_top, "tech": d_speaker, "books": d_book, "outdoors": d_lantern,
}


def sql_str(s):
    return s.replace("''", "'")


def parse(text):
    products = []
    for pid, name, _desc, _pic, cats in ROW.findall(text):
        products.append((sql_str(pid), sql_str(name), [sql_str(c) for c in re.findall(LIT, cats)]))
    return products


def render(pid, name, cats):
    bg1, bg2, accent = PALETTE.get(cats[0], DEFAULT_PALETTE)
    main = next((col for key, col in MATERIALS if key in pid), accent)
    dark, light = shade(main, -.35), shade(main, .45)
    draw = next((fn for key, fn in DRAWINGS if key in pid), None) or CATEGORY_FALLBACK.get(cats[0], d_tote)
    title = html.escape(name, quote=True)
    size = 20 if len(name) <= 24 else 17
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" height="400" '
        f'role="img" aria-labelledby="t-{pid}">'
        f'<title id="t-{pid}">{title}</title>'
        f'<defs><linearGradient id="bg-{pid}" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{bg1}"/><stop offset="1" stop-color="{bg2}"/></linearGradient></defs>'
        f'<rect width="400" height="400" fill="url(#bg-{pid})"/>'
        f'<ellipse cx="200" cy="318" rx="140" ry="14" fill="{accent}" opacity=".15"/>'
        + draw(main, dark, light, accent) +
        f'<text x="200" y="368" text-anchor="middle" font-family="sans-serif" font-size="{size}" '
        f'fill="{shade(accent, -.45)}">{title}</text></svg>\n'
    )


def main():
    products = parse(SEED.read_text(encoding="utf-8"))
    if not products:
        sys.exit(f"no products found in {SEED}")
    for pid, name, cats in products:
        if not ID_RE.match(pid):
            sys.exit(f"bad product id {pid!r}")
        (HERE / f"{pid}.svg").write_text(render(pid, name, cats), encoding="utf-8")
    print(f"wrote {len(products)} SVG files to {HERE}")


if __name__ == "__main__":
    main()
