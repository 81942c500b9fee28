"""Draws a trace from Jaeger's query API as an SVG waterfall: one row per span, in tree
order, indented by depth, coloured by service, placed on the trace's time axis."""

from html import escape

COLOURS = {
    "frontend": "#4c78a8", "checkout": "#f58518", "cart": "#54a24b", "catalog": "#b279a2",
    "shipping": "#e45756", "payment": "#72b7b2", "email": "#eeca3b", "identity": "#9d755d",
}
ROW, LABEL, WIDTH = 18, 430, 1200


def draw(trace: dict) -> str:
    spans = {s["spanID"]: s for s in trace["spans"]}
    service = {s["spanID"]: trace["processes"][s["processID"]]["serviceName"]
               for s in trace["spans"]}
    children = {}
    roots = []
    for span in sorted(spans.values(), key=lambda s: s["startTime"]):
        parent = next((r["spanID"] for r in span.get("references", [])
                       if r["refType"] == "CHILD_OF" and r["spanID"] in spans), None)
        (children.setdefault(parent, []) if parent else roots).append(span)

    rows = []

    def walk(span, depth):
        rows.append((span, depth))
        for child in children.get(span["spanID"], []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)

    start = min(s["startTime"] for s in spans.values())
    end = max(s["startTime"] + s["duration"] for s in spans.values())
    scale = (WIDTH - LABEL - 20) / max(end - start, 1)
    height = ROW * (len(rows) + 3)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="8" y="14" font-weight="bold">One purchase, one trace: {len(rows)} spans, '
           f'{(end - start) / 1000:.1f} ms, trace {trace["traceID"]}</text>']
    for i, (span, depth) in enumerate(rows):
        y = ROW * (i + 1) + 6
        name = service[span["spanID"]]
        colour = COLOURS.get(name, "#888888")
        x = LABEL + (span["startTime"] - start) * scale
        w = max(span["duration"] * scale, 1.5)
        out.append(f'<text x="{8 + depth * 10}" y="{y + 12}">'
                   f'<tspan fill="{colour}" font-weight="bold">{escape(name)}</tspan> '
                   f'{escape(span["operationName"])}</text>')
        out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{min(x + w + 4, WIDTH - 60):.1f}" y="{y + 12}" fill="#555">'
                   f'{span["duration"] / 1000:.2f} ms</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    # picture.py TRACE_ID [OUT.svg] [JAEGER_URL]: draws a trace kept by a running Jaeger.
    import json
    import sys
    import urllib.request

    if len(sys.argv) < 2:
        sys.exit("usage: picture.py TRACE_ID [OUT.svg] [JAEGER_URL]")
    base = sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:16686"
    with urllib.request.urlopen(f"{base}/api/traces/{sys.argv[1]}", timeout=10) as answer:
        svg = draw(json.load(answer)["data"][0])
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write(svg)
    else:
        sys.stdout.write(svg)
