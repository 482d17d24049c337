"""Render the report: one self-contained HTML file (inline CSS and JS, nothing fetched).

The page must open from a CI artifact, a mail attachment or a laptop with no network, so it
carries everything and its Content-Security-Policy forbids every fetch. Everything it shows comes
from scrubbed run records and is escaped here; the timeline is drawn in CSS (bar offsets and
widths are computed in Python), so it also reads where scripts do not run — pytest-html inserts
the :func:`scenario_fragment` of each scenario item as plain HTML. The script only adds controls
(expand or collapse every exchange, failures only) and marks the page ready; a first script
counts JavaScript errors on ``<html data-js-errors>``, which the browser test reads.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from harness.report.timeline import Check, Exchange, ScenarioView, StepView, batch_views, scenario_view
from harness.scenario.records import DEFAULT_RUNS_DIR, RunRecord

MIN_BAR_PCT = 0.4
"""A bar is drawn at least this wide, so a sub-millisecond step is still seen."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
.harness-report{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328}
.harness-report h1{font-size:22px;margin:0 0 4px}
.harness-report h2{font-size:18px;margin:0 0 8px;display:flex;gap:8px;align-items:center}
.harness-report h3{font-size:15px;margin:8px 0 4px}
.harness-report code,.harness-report pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.harness-report pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:420px;white-space:pre-wrap;
 word-break:break-word;margin:4px 0}
.harness-report .badge{border-radius:4px;padding:1px 7px;font-size:12px;font-weight:600;color:#fff;
 text-transform:uppercase}
.harness-report .badge.passed{background:#1a7f37}.harness-report .badge.failed,
.harness-report .badge.interrupted{background:#cf222e}.harness-report .badge.skipped{background:#9a6700}
.harness-report section.scenario{border:1px solid #d0d7de;border-radius:6px;padding:12px 14px;
 margin:0 0 16px;background:#fff}
.harness-report section.scenario.is-failed{border-left:5px solid #cf222e}
.harness-report section.scenario.is-passed{border-left:5px solid #1a7f37}
.harness-report dl.meta{display:flex;flex-wrap:wrap;gap:2px 18px;margin:0 0 8px;color:#57606a;font-size:12px}
.harness-report dl.meta div{display:flex;gap:4px}.harness-report dl.meta dt{font-weight:600}
.harness-report dl.meta dd{margin:0}
.harness-report .failure{background:#fff5f5;border:1px solid #ffcecb;border-radius:6px;padding:8px 10px;
 margin:0 0 10px}
.harness-report table{border-collapse:collapse;margin:4px 0}
.harness-report th,.harness-report td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
 vertical-align:top}
.harness-report th{background:#f6f8fa}
.harness-report td.expected{color:#1a7f37}.harness-report td.actual{color:#cf222e}
.harness-report .timeline{margin:6px 0}
.harness-report .step{border-top:1px solid #eaeef2;padding:3px 0}
.harness-report .step-head{display:grid;grid-template-columns:38px 40px minmax(160px,300px) 44px 1fr 82px;
 gap:6px;align-items:center}
.harness-report .step.sub .step-head .label{padding-left:14px}
.harness-report .mark{font-weight:700;font-size:12px}.harness-report .step.ok .mark{color:#1a7f37}
.harness-report .step.fail .mark{color:#cf222e}.harness-report .step.fail .label{font-weight:600}
.harness-report .num,.harness-report .status,.harness-report .ms{font:12px ui-monospace,monospace;
 color:#57606a}
.harness-report .ms{text-align:right}
.harness-report .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.harness-report .track{position:relative;height:14px;background:#f6f8fa;border-radius:3px}
.harness-report .bar{position:absolute;top:2px;bottom:2px;border-radius:2px;background:#2da44e;
 min-width:2px}
.harness-report .step.fail .bar{background:#cf222e}.harness-report .step.cleanup .bar{background:#8c959f}
.harness-report .step.sub .bar{opacity:.75}
.harness-report .notes{display:flex;flex-wrap:wrap;gap:4px 10px;margin:2px 0 0 84px;font-size:12px;
 color:#57606a}
.harness-report .note.clock-move{color:#8250df;font-weight:600}
.harness-report .note.fault{color:#9a6700;font-weight:600}.harness-report .note.problem{color:#cf222e}
.harness-report .note.retries{color:#bc4c00}
.harness-report details.exchange{margin:2px 0 2px 84px}
.harness-report details.exchange summary{cursor:pointer;color:#0969da;font-size:12px}
.harness-report .exchange-body{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.harness-report .cleanup-line{color:#57606a;font-size:12px;margin:6px 0 0}
.harness-report .checks td{font:12px ui-monospace,monospace}
"""

PAGE_CSS = """
body{margin:0;background:#f6f8fa}
header.top,main{max-width:1280px;margin:0 auto;padding:12px 18px}
header.top .summary{margin:0 0 8px;color:#57606a}
.controls{display:flex;gap:8px;align-items:center;margin:6px 0}
.controls button{font:inherit;font-size:12px;padding:2px 10px;cursor:pointer}
nav.index table{background:#fff}
nav.index td.outcome{font-weight:600;text-transform:uppercase;font-size:12px}
nav.index tr.is-failed td.outcome{color:#cf222e}nav.index tr.is-passed td.outcome{color:#1a7f37}
"""

# Runs first, before any other script: every uncaught error is counted on <html> (the browser
# test asserts the count stays 0, and that the main script got to its end: data-ready).
ERROR_COUNTER = """
window.addEventListener("error", function (event) {
  var root = document.documentElement;
  root.setAttribute("data-js-errors", String(Number(root.getAttribute("data-js-errors") || 0) + 1));
  root.setAttribute("data-js-last-error", String(event.message || event.type));
});
"""

SCRIPT = """
(function () {
  "use strict";
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function setOpen(open) { all("details.exchange").forEach(function (d) { d.open = open; }); }
  document.getElementById("expand-all").addEventListener("click", function () { setOpen(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setOpen(false); });
  document.getElementById("failures-only").addEventListener("change", function (event) {
    var only = event.target.checked;
    all("section.scenario, nav.index tr[data-outcome]").forEach(function (node) {
      node.hidden = only && node.getAttribute("data-failed") !== "true";
    });
  });
  var drawn = 0;
  all(".timeline .bar").forEach(function (bar) {
    var width = bar.getBoundingClientRect().width;
    bar.setAttribute("data-drawn-px", width.toFixed(1));
    if (width > 0) { drawn += 1; }
  });
  document.body.setAttribute("data-bars-drawn", String(drawn));
  document.body.setAttribute("data-ready", "1");
})();
"""


def write_report(path: Path, records: Iterable[RunRecord], *, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """Write the report of ``records`` (one run or a batch) to ``path``; ``runs_dir`` is where the
    records live, for each replay command. Returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(records, runs_dir=runs_dir), encoding="utf-8")
    return path


def render_report(records: Iterable[RunRecord], *, runs_dir: Path = DEFAULT_RUNS_DIR) -> str:
    """The whole page: a summary, an index, then one section per scenario, failures first."""
    views = batch_views(records, runs_dir)
    counts = Counter(view.outcome for view in views)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items(), key=_outcome_order))
    summary = f"{len(views)} scenario(s): {summary or 'none'}"
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    sections = "\n".join(_section(view) for view in views)
    return f"""<!doctype html>
<html lang="en" data-js-errors="0">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(f"harness report: {summary}")}</title>
<style>{CSS}{PAGE_CSS}</style>
<script>{ERROR_COUNTER}</script>
</head>
<body class="harness-report">
<header class="top">
<h1>Scenario runs</h1>
<p class="summary">{_e(summary)} · report written {_e(generated)}</p>
<div class="controls">
<button type="button" id="expand-all">expand every request/response</button>
<button type="button" id="collapse-all">collapse all</button>
<label><input type="checkbox" id="failures-only"> failures only</label>
</div>
<nav class="index">{_index(views)}</nav>
</header>
<main>
{sections or '<p class="empty">No run records.</p>'}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def scenario_fragment(record: RunRecord, *, runs_dir: Path = DEFAULT_RUNS_DIR) -> str:
    """One scenario's section with its own styles and no script, for pages that are not ours
    (pytest-html's ``harness`` extra)."""
    view = scenario_view(record, runs_dir)
    return f'<div class="harness-report" data-section="harness"><style>{CSS}</style>{_section(view)}</div>'


def _outcome_order(item: tuple[str, int]) -> int:
    order = ("failed", "interrupted", "passed", "skipped")
    return order.index(item[0]) if item[0] in order else len(order)


def _index(views: list[ScenarioView]) -> str:
    if not views:
        return ""
    rows = "".join(
        f'<tr class="is-{"failed" if v.failed else "passed"}" data-outcome="{_e(v.outcome)}" '
        f'data-failed="{str(v.failed).lower()}"><td class="outcome">{_e(v.outcome)}</td>'
        f'<td><a href="#{_anchor(v)}">{_e(v.name)}</a></td><td>{_e(v.tier)}</td>'
        f"<td>{len([s for s in v.steps if not s.sub_step and not s.cleanup])} steps</td>"
        f"<td>{v.duration_ms:.0f} ms</td></tr>"
        for v in views
    )
    head = "<tr><th>result</th><th>scenario</th><th>tier</th><th>steps</th><th>wall time</th></tr>"
    return f"<table>{head}{rows}</table>"


def _anchor(view: ScenarioView) -> str:
    return f"run-{_e(view.record_id)}"


def _section(view: ScenarioView) -> str:
    state = "failed" if view.failed else "passed"
    meta = [
        ("run", view.run_id),
        ("record", view.record_id),
        ("tier", f"{view.tier} ({view.mode})"),
        ("seed", str(view.seed)),
        ("started", view.started_at),
        ("wall time", f"{view.duration_ms:.1f} ms"),
        ("clock", f"{view.clock_start} → {view.clock_end or '?'}"),
    ]
    if view.source:
        meta.append(("file", view.source))
    if view.replay_of:
        meta.append(("replay of", view.replay_of))
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in meta)
    steps = "\n".join(_step(step) for step in view.steps)
    return f"""<section class="scenario is-{state}" id="{_anchor(view)}" data-outcome="{_e(view.outcome)}" \
data-failed="{str(view.failed).lower()}" data-scenario="{_e(view.name)}">
<h2><span class="badge {_e(view.outcome)}">{_e(view.outcome)}</span> {_e(view.name)}</h2>
<dl class="meta">{items}</dl>
{_failure(view)}{_faults(view)}
<div class="timeline" data-steps="{len(view.steps)}">
{steps}
</div>
<p class="cleanup-line">cleanup: {_e(view.cleanup)}</p>
</section>"""


def _failure(view: ScenarioView) -> str:
    if not view.failed:
        return ""
    step = view.failed_step
    parts = ['<div class="failure">']
    if step is not None:
        where = "cleanup" if step.cleanup else f"step {step.number}"
        status = f" → HTTP {step.status}" if step.status is not None else ""
        parts.append(f"<h3>Failed at {_e(where)}: {_e(step.label)}{_e(status)}</h3>")
        parts.append(_checks(step.checks))
        if step.error:
            parts.append(f'<p class="error">error: <code>{_e(step.error)}</code></p>')
        if step.exchange is not None:
            parts.append(_exchange(step.exchange))
    else:
        parts.append("<h3>Failed</h3>")
        parts.extend(f"<p>{_e(message)}</p>" for message in view.failure_messages)
    parts.append(f'<p>replay: <code class="replay">{_e(view.replay_command)}</code></p></div>')
    return "".join(parts)


def _checks(checks: tuple[Check, ...]) -> str:
    if not checks:
        return ""
    rows = "".join(
        f'<tr><td>{_e(c.what)}</td><td class="expected">{_e(c.expected)}</td>'
        f'<td class="actual">{_e(c.actual)}</td></tr>'
        if c.what is not None
        else f'<tr><td colspan="3">{_e(c.message)}</td></tr>'
        for c in checks
    )
    return f'<table class="checks"><tr><th>what</th><th>expected</th><th>actual</th></tr>{rows}</table>'


def _faults(view: ScenarioView) -> str:
    if not view.faults:
        return ""
    rows = "".join(
        f"<tr><td>{_e(f.description)}</td><td>{_e(f.armed_at)}</td>"
        f"<td>{'—' if f.fired is None else f'{f.fired}×'}</td></tr>"
        for f in view.faults
    )
    head = "<tr><th>fault</th><th>armed</th><th>fired</th></tr>"
    return f'<h3>Faults</h3><table class="faults">{head}{rows}</table>'


def _step(step: StepView) -> str:
    classes = ["step", "ok" if step.ok else "fail"]
    if step.cleanup:
        classes.append("cleanup")
    if step.sub_step:
        classes.append("sub")
    label = step.label
    width = max(step.width_pct, MIN_BAR_PCT)
    left = min(step.offset_pct, 100 - width)
    status = str(step.status) if step.status is not None else "—"
    bar = (
        f'<span class="bar" style="left:{left:.3f}%;width:{width:.3f}%" '
        f'title="{_e(f"{step.elapsed_ms:.1f} ms, from {step.offset_pct:.1f}% of the run")}"></span>'
    )
    head = (
        f'<div class="step-head"><span class="mark">{"ok" if step.ok else "FAIL"}</span>'
        f'<span class="num">{_e(step.number)}</span>'
        f'<span class="label" title="{_e(label)}">{_e(label)}</span>'
        f'<span class="status">{_e(status)}</span><span class="track">{bar}</span>'
        f'<span class="ms">{step.elapsed_ms:.1f} ms</span></div>'
    )
    return (
        f'<div class="{" ".join(classes)}" data-step="{_e(step.number)}" data-ok="{str(step.ok).lower()}">'
        f"{head}{_notes(step)}{_exchange(step.exchange)}</div>"
    )


def _notes(step: StepView) -> str:
    notes: list[str] = []
    if step.clock and not step.sub_step:
        notes.append(f'<span class="note clock">clock {_e(step.clock)}</span>')
    if step.clock_move:
        notes.append(f'<span class="note clock-move">clock moved {_e(step.clock_move)}</span>')
    notes.extend(f'<span class="note fault">fault armed: {_e(fault)}</span>' for fault in step.faults_armed)
    if step.retries:
        retries = f"{step.retries} provider retr{'y' if step.retries == 1 else 'ies'}"
        notes.append(f'<span class="note retries">{retries}</span>')
    notes.extend(f'<span class="note call">{_e(call)}</span>' for call in step.provider_calls)
    if not step.ok:
        notes.extend(f'<span class="note problem">{_e(c.message)}</span>' for c in step.checks)
        if step.error:
            notes.append(f'<span class="note problem">error: {_e(step.error)}</span>')
    return f'<div class="notes">{"".join(notes)}</div>' if notes else ""


def _exchange(exchange: Exchange | None) -> str:
    """A request and its response, collapsed: the timeline stays one line per step."""
    if exchange is None:
        return ""
    return (
        f'<details class="exchange"><summary>{_e(exchange.title)}</summary><div class="exchange-body">'
        f"<div><h4>request</h4><pre>{_e(exchange.request)}</pre></div>"
        f"<div><h4>response</h4><pre>{_e(exchange.response)}</pre></div></div></details>"
    )


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)
