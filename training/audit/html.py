"""HTML sections for a training job's report: the gate's decision and the audit's top findings.

Kept apart from training/report.py (the evaluation page) so either can change on its own; the
job inserts this fragment before the page's closing </body>.
"""

from __future__ import annotations

from html import escape
from typing import Any

KIND_NAMES = {"missing_label": "漏标", "extra_label": "多标", "duplicate_conflict": "重复但标签不同", "too_short": "文本过短"}


def _interval(m: dict) -> str:
    if not m.get("measured"):
        return escape(m.get("note", "not measured"))
    lo, hi = m["interval"]
    return f"{m['f1']:.3f} [{lo:.3f}, {hi:.3f}]"


def render_gate_and_audit(report: dict[str, Any], names: dict[str, str]) -> str:
    """The gate (rows per label, F1 intervals, decision in one sentence) and the audit's top findings."""
    ev = report.get("evaluation", {})
    gate = report.get("gate", {})
    rows = []
    for label, m in ev.get("per_label", {}).items():
        active = ""
        if "active_f1" in m:
            lo, hi = m["active_interval"]
            active = f"{m['active_f1']:.3f} [{lo:.3f}, {hi:.3f}]"
        change = f"{m['diff']:+.3f} (≥ {m['diff_lower']:+.3f})" if "diff" in m else ""
        rows.append(f"<tr><td>{escape(names.get(label, label))} <code>{escape(label)}</code></td><td>{escape(m['status'])}</td>"
                    f"<td class=num>{m['rows']}</td><td class=num>{m['support']}</td><td>{_interval(m)}</td>"
                    f"<td>{escape(active)}</td><td>{escape(change)}</td></tr>")
    dropped = ", ".join(ev.get("dropped", []))
    parts = [
        '<section id="gate"><h2>质量闸门 · Quality gate</h2>',
        f'<p class="decision"><strong>{escape(gate.get("decision", ""))}</strong>: {escape(gate.get("sentence", ""))}</p>',
        f"<p>{ev.get('repeats', 0)}×{ev.get('folds', 0)}-fold cross-validation on {ev.get('rows', 0)} rows "
        f"({escape(str(report.get('rows', {}).get('evaluated_on', '')))}), paired with the active model on the same rows; "
        f"intervals: {ev.get('confidence', 0):.0%} bootstrap over rows.</p>",
        "<table><thead><tr><th>label</th><th>status</th><th>training rows</th><th>evaluated rows</th>"
        "<th>candidate F1 [interval]</th><th>active F1 [interval]</th><th>change (lower bound)</th></tr></thead><tbody>",
        *rows, "</tbody></table>",
    ]
    if dropped:
        parts.append(f"<p>Dropped labels: {escape(dropped)}</p>")
    for warning in report.get("warnings", []):
        parts.append(f'<p class="warning">{escape(warning)}</p>')
    parts.append("</section>")
    audit = report.get("audit")
    if audit:
        parts.append(render_audit_section(audit, names))
    return "\n".join(parts)


def render_audit_section(audit: dict[str, Any], names: dict[str, str]) -> str:
    """A table of suspected rows: kind, label, score, given labels, model scores, evidence terms."""
    rows = []
    for f in audit.get("findings", []):
        scores = ", ".join(f"{names.get(k, k)} {v:.2f}" for k, v in sorted(f.get("scores", {}).items(), key=lambda kv: -kv[1])[:3])
        rows.append(f"<tr><td class=num>{f['row']}</td><td>{escape(KIND_NAMES.get(f['kind'], f['kind']))}</td>"
                    f"<td>{escape(names.get(f['label'], f['label']) if f.get('label') else '')}</td><td class=num>{f['score']:.3f}</td>"
                    f"<td>{escape('|'.join(f['given']) or '(none)')}</td><td>{escape(scores)}</td>"
                    f"<td>{escape('、'.join(f.get('evidence', [])))}</td><td>{escape(f.get('detail', ''))}<br>{escape(f.get('text', ''))}</td></tr>")
    total = audit.get("total", len(rows))
    return "\n".join([
        '<section id="audit"><h2>数据审查 · Audit of the upload</h2>',
        f"<p>{total} finding(s); the {len(rows)} most suspicious (row = the upload's data row, 1-based). "
        "Label suspects come from confident learning on out-of-fold scores.</p>",
        "<table><thead><tr><th>row</th><th>kind</th><th>label</th><th>score</th><th>given</th><th>model scores</th>"
        "<th>evidence</th><th>why</th></tr></thead><tbody>", *rows, "</tbody></table></section>",
    ])
