"""The review report: markdown (for a pull-request comment), plain text (a terminal) and JSON (tools).

The markdown starts with one summary line (counts, restarts, state loss, mandatory violations), then a STATE LOSS
banner if any, the Flink jobs affected, the changes per cluster, the violations by level with their fixes, the
waivers in force and the TaskManager memory before/after. Long sections fold into `<details>` instead of being
cut. A hidden marker `<!-- flinkplat-review:STACK -->` lets CI find and update its own comment.
"""

from __future__ import annotations

import json
from typing import Any

from flinkplat.flink.diff import ChangeClass, Consequence
from flinkplat.review import memory as mem
from flinkplat.review.plandiff import FLINK_DEPLOYMENT, PlanDiff, ResourceChange, session_jobs_of

MARKER = "<!-- flinkplat-review:{stack} -->"
FOLD_LINES = 12  # sections longer than this fold
VALUE_WIDTH = 80  # longer values are shown shortened (with their length); the JSON report has them whole

ICONS = {
    Consequence.NONE: "✅", Consequence.RESCALE: "↔️", Consequence.RESTART: "🔁",
    Consequence.SAVEPOINT_REDEPLOY: "💾", Consequence.SUSPEND: "⏸️", Consequence.RESUME: "▶️",
    Consequence.CREATE: "🆕", Consequence.DELETE: "🗑️", Consequence.REPLACE: "♻️", Consequence.REJECTED: "⛔",
}
ACTION_ICONS = {"create": "➕", "update": "✏️", "replace": "♻️", "delete": "➖"}


# ---------------------------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------------------------


def memory_changes(diff: PlanDiff) -> list[mem.MemoryChange]:
    """Every FlinkDeployment whose TaskManagers change (or appear), with Flink's derivation on both sides."""
    out = []
    for change in diff.changes:
        if change.type != FLINK_DEPLOYMENT or change.action == "delete":
            continue
        if change.action != "create" and not mem.relevant(change.fields):
            continue
        out.append(mem.MemoryChange(cluster=change.cluster, object_name=change.object_name,
                                    before=mem.side(change.before), after=mem.side(change.after)))
    return out


def split_fix(message: str) -> tuple[str, str]:
    """Rule messages end with 'Fix: …'; show the fix on its own."""
    head, sep, fix = message.partition(" Fix: ")
    return (head, fix) if sep else (message, "")


def summary(diff: PlanDiff, base_ref: str) -> dict[str, Any]:
    counts = diff.counts()
    violations = diff.violations()
    mandatory = [v for v in violations if v["level"] == "mandatory"]
    return {
        "stack": diff.stack,
        "base": base_ref,
        "baseExists": diff.base is not None,
        "counts": counts,
        "unchanged": diff.unchanged,
        "restarts": len(diff.restarts),
        "rescales": len(diff.rescales),
        "rejected": len(diff.rejected),
        "stateLoss": len(diff.state_loss),
        "mandatoryViolations": len(mandatory),
        "newMandatoryViolations": sum(1 for v in mandatory if v["new"]),
        "advisoryViolations": len(violations) - len(mandatory),
        "resolvedViolations": len(diff.resolved_violations()),
        "waivers": len(diff.head.get("waivers", [])),
    }


def summary_line(diff: PlanDiff, base_ref: str, markdown: bool = True) -> str:
    s = summary(diff, base_ref)
    c = s["counts"]
    b = (lambda t: f"**{t}**") if markdown else (lambda t: t)
    parts = [f"{c['create']} to create, {c['update']} to update, {c['replace']} to replace, {c['delete']} to delete"]
    parts.append(f"{s['restarts']} job restart{'s' if s['restarts'] != 1 else ''}")
    if s["rescales"]:
        parts.append(f"{s['rescales']} rescale{'s' if s['rescales'] != 1 else ''} in place")
    if s["rejected"]:
        parts.append(b(f"⛔ {s['rejected']} rejected by the operator"))
    parts.append(b(f"🚨 STATE LOSS ×{s['stateLoss']}") if s["stateLoss"] else "no state loss")
    parts.append(b(f"❌ {s['mandatoryViolations']} mandatory violation{'s' if s['mandatoryViolations'] != 1 else ''}")
                 if s["mandatoryViolations"] else "0 mandatory violations")
    if s["advisoryViolations"]:
        parts.append(f"{s['advisoryViolations']} advisory")
    head = f"`{diff.stack}` vs `{base_ref}`" if markdown else f"{diff.stack} vs {base_ref}"
    return f"{head}: " + " · ".join(parts)


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("\n", "⏎")
    if len(text) > width:
        return f"{text[:width - 1]}… ({len(text)} chars)"
    return text


def _code(text: str) -> str:
    text = text.replace("`", "'")
    return f"`{text}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fold(title: str, lines: list[str], force: bool = False, heading: str = "####") -> list[str]:
    if not lines:
        return []
    if force or len(lines) > FOLD_LINES:
        return ["<details>", f"<summary>{title}</summary>", "", *lines, "", "</details>", ""]
    return [f"{heading} {title}", "", *lines, ""]


def _field_line(path: str, before: Any, after: Any, klass: ChangeClass | None = None, note: str = "") -> str:
    text = f"{_code(path)}: {_code(_short(before))} → {_code(_short(after))}"
    if klass is not None:
        text += f" · {klass.name}"
    if note:
        text += f" ({note})"
    return text


def _change_fields(change: ResourceChange) -> list[tuple[str, Any, Any, ChangeClass | None, str]]:
    if change.flink is not None and change.action == "update":
        return [(f.path, f.before, f.after, f.change, f.note) for f in change.flink.fields]
    return [(p, b, a, None, "") for p, b, a in change.fields]


# ---------------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------------


def markdown(diff: PlanDiff, base_ref: str) -> str:
    lines = [MARKER.format(stack=diff.stack), f"### flinkplat review · stack `{diff.stack}`", "",
             summary_line(diff, base_ref), ""]
    if diff.base is None:
        lines += [f"> [!NOTE]\n> The stack file does not exist at `{base_ref}`: everything is created.", ""]
    lines += _state_loss_banner(diff)
    lines += _rejected_banner(diff)
    lines += _flink_table(diff)
    lines += _per_cluster(diff)
    lines += _violations(diff)
    lines += _waivers(diff)
    lines += _memory(diff)
    if not diff.changes:
        lines += ["No resource changes.", ""]
    lines.append(f"<sub>flinkplat plan --stack {diff.stack} --base {base_ref} · {diff.unchanged} resources "
                 "unchanged · consequences follow the Flink operator's spec-change classes "
                 "(IGNORE < SCALE < UPGRADE < SAVEPOINT_REDEPLOY)</sub>")
    return "\n".join(lines).rstrip() + "\n"


def _state_loss_banner(diff: PlanDiff) -> list[str]:
    losses = diff.state_loss
    if not losses:
        return []
    out = ["> [!CAUTION]", f"> **🚨 STATE LOSS** — {len(losses)} change{'s' if len(losses) != 1 else ''} "
           "drop Flink state (checkpoints, savepoints or HA metadata):"]
    for change, reason in losses:
        out.append(f"> - **{change.cluster}** {_code(change.object_name)}: {reason}")
        for note in change.notes:
            out.append(f">   - {note}")
    return out + [""]


def _rejected_banner(diff: PlanDiff) -> list[str]:
    rejected = diff.rejected
    if not rejected:
        return []
    out = ["> [!WARNING]", "> **The operator will reject these changes** (its validator refuses them after the "
           "first deploy; the job keeps running the old spec and the resource gets `status.error`):"]
    for change in rejected:
        for message in change.flink.rejected:
            out.append(f"> - **{change.cluster}** {_code(change.object_name)}: \"{message}\"")
    return out + [""]


def _consequence_text(change: ResourceChange, diff: PlanDiff) -> str:
    flink = change.flink
    text = f"{ICONS[flink.consequence]} {flink.summary}"
    if flink.state_loss:
        text += " · **STATE LOSS**"
    sessions = session_jobs_of(diff, change) if flink.restarts else []
    if sessions:
        text += f" · its {len(sessions)} session job{'s' if len(sessions) != 1 else ''} restart too"
    return text


def _flink_table(diff: PlanDiff) -> list[str]:
    changes = diff.flink_changes
    if not changes:
        return []
    rows = ["| cluster | Flink resource | class | what happens to the job | changed fields |", "|---|---|---|---|---|"]
    for change in sorted(changes, key=lambda c: (c.cluster, c.object_name)):
        flink = change.flink
        klass = flink.change.name if flink.change is not None else change.action.upper()
        if change.action == "create":
            fields = "new"
        elif change.action == "delete":
            fields = "deleted"
        else:
            shown = [f.path for f in flink.fields] or [p for p, _, _ in change.fields]
            fields = ", ".join(_code(p.removeprefix("spec.")) for p in shown[:4])
            if len(shown) > 4:
                fields += f" and {len(shown) - 4} more"
        name = change.object_name if change.old_name is None else f"{change.object_name} (was {change.old_name})"
        rows.append(f"| {change.cluster} | {_cell(change.kind)} {_code(name)} | {klass} | "
                    f"{_cell(_consequence_text(change, diff))} | {_cell(fields)} |")
    notes = []
    for change in changes:
        for warning in change.flink.warnings:
            notes.append(f"- **{change.cluster}** {_code(change.object_name)}: {warning}")
    return _fold(f"Flink jobs ({len(changes)})", rows + ([""] + notes if notes else []))


def _per_cluster(diff: PlanDiff) -> list[str]:
    out: list[str] = []
    groups = diff.by_cluster()
    if not groups:
        return out
    out += ["#### Changes by cluster", ""]
    for provider, changes in groups.items():
        counts: dict[str, int] = {}
        for change in changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        title = f"<b>{provider}</b> — " + ", ".join(f"{n} {a}" for a, n in counts.items())
        body = []
        for change in changes:
            head = f"- {ACTION_ICONS[change.action]} **{change.action}** {change.kind} {_code(change.name)}"
            if change.old_name:
                head += f" (was {_code(change.old_name)})"
            body.append(head)
            for reason in change.replace_reasons:
                body.append(f"  - replace because {reason}")
            if change.action in ("update", "replace"):
                for path, before, after, klass, note in _change_fields(change):
                    body.append("  - " + _field_line(path, before, after, klass, note))
            for note in change.notes:
                body.append(f"  - ⚠️ {note}")
        out += _fold(title, body, force=len(groups) > 1 or len(body) > FOLD_LINES)
    return out


def _violations(diff: PlanDiff) -> list[str]:
    violations = diff.violations()
    resolved = diff.resolved_violations()
    out: list[str] = []
    for level, title in (("mandatory", "❌ Mandatory policy violations"), ("advisory", "⚠️ Advisory policy violations")):
        items = [v for v in violations if v["level"] == level]
        if not items:
            continue
        new = [v for v in items if v["new"]]
        existing = [v for v in items if not v["new"]]
        body = _violation_lines(new, "🆕 ")
        if existing:
            body += _fold(f"{len(existing)} already present at the base ref", _violation_lines(existing, ""),
                          force=True)
        out += _fold(f"{title} ({len(items)}, {len(new)} new in this change)", body,
                     force=level == "advisory" and not new)
    if resolved:
        body = [f"- ~~**{v['policy']}** on {_code(v['resource'])}~~" for v in resolved]
        out += _fold(f"✔️ Violations resolved by this change ({len(resolved)})", body)
    return out


def _violation_lines(violations: list[dict[str, Any]], badge: str) -> list[str]:
    lines = []
    for v in sorted(violations, key=lambda v: (v["policy"], v["resource"])):
        message, fix = split_fix(v["message"])
        lines.append(f"- {badge}**{v['policy']}** on {_code(v['resource'])}: {message}")
        if fix:
            lines.append(f"  - **Fix:** {fix}")
    return lines


def _waivers(diff: PlanDiff) -> list[str]:
    waivers = diff.head.get("waivers", [])
    if not waivers:
        return []
    body = ["| policy | resource | reason | expires |", "|---|---|---|---|"]
    for w in waivers:
        body.append(f"| {w['policy']} | {_code(w['resource'])} | {_cell(w['reason'])} | {w.get('expires') or 'never'} |")
    return _fold(f"Waivers in force ({len(waivers)})", body)


def _memory(diff: PlanDiff) -> list[str]:
    changes = memory_changes(diff)
    if not changes:
        return []
    out = ["#### TaskManager memory", ""]
    for change in changes:
        body = memory_table(change) + [""] + ["```text", *mem.chart(change), "```"]
        title = f"{change.cluster} {_code(change.object_name)}: {_memory_headline(change)}"
        out += _fold(title, body, force=len(changes) > 2)
    return out


def _memory_headline(change: mem.MemoryChange) -> str:
    b, a = change.before, change.after
    if a is not None and a.error:
        return "⛔ Flink refuses the new configuration"
    if b is None:
        return f"new, {a.process_size} per TaskManager (Flink {a.flink_version})"
    text = f"{b.process_size} → {a.process_size}" if b.process_size != a.process_size else f"{a.process_size}"
    if b.flink_version != a.flink_version:
        text += f", Flink {b.flink_version} → {a.flink_version}"
    if b.replicas != a.replicas:
        text += f", replicas {b.replicas if b.replicas is not None else 'auto'} → {a.replicas if a.replicas is not None else 'auto'}"
    return text


def memory_table(change: mem.MemoryChange) -> list[str]:
    b = change.before.memory if change.before else None
    a = change.after.memory if change.after else None
    rows = ["| component | before | after | Δ |", "|---|--:|--:|--:|"]
    for name, label, _ in mem.COMPONENTS:
        vb = getattr(b, name) if b else None
        va = getattr(a, name) if a else None
        rows.append(f"| {label} | {mem.format_mib(vb) if vb is not None else '—'} | "
                    f"{mem.format_mib(va) if va is not None else '—'} | {mem.format_delta(vb, va)} |")
    tb = b.total_process if b else None
    ta = a.total_process if a else None
    rows.append(f"| **Total process** | {mem.format_mib(tb) if tb is not None else '—'} | "
                f"{mem.format_mib(ta) if ta is not None else '—'} | {mem.format_delta(tb, ta)} |")
    jb = b.jvm_args() if b else "—"
    ja = a.jvm_args() if a else "—"
    rows.append(f"| JVM | {_code(jb) if b else '—'} | {_code(ja) if a else '—'} | |")
    for label, s in (("before", change.before), ("after", change.after)):
        if s is not None and s.error:
            rows += ["", f"⛔ **{label}**: Flink refuses to start the TaskManager: {_code(s.error)}"]
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Text and JSON
# ---------------------------------------------------------------------------------------------------------------


def text(diff: PlanDiff, base_ref: str) -> str:
    lines = [summary_line(diff, base_ref, markdown=False)]
    for change, reason in diff.state_loss:
        lines.append(f"  STATE LOSS {change.cluster} {change.object_name}: {reason}")
    for change in diff.rejected:
        for message in change.flink.rejected:
            lines.append(f"  REJECTED {change.cluster} {change.object_name}: {message}")
    for change in sorted(diff.flink_changes, key=lambda c: (c.cluster, c.object_name)):
        lines.append(f"  {change.cluster:<16} {change.kind} {change.object_name}: {change.flink.summary}"
                     + (f" [{change.flink.change.name}]" if change.flink.change is not None else ""))
        for warning in change.flink.warnings:
            lines.append(f"      note: {warning}")
    for provider, changes in diff.by_cluster().items():
        lines.append(f"{provider}:")
        for change in changes:
            lines.append(f"  {change.action:<8} {change.kind} {change.name}")
            if change.action in ("update", "replace"):
                for path, before, after, klass, note in _change_fields(change):
                    lines.append(f"      {path}: {_short(before, 60)} -> {_short(after, 60)}"
                                 + (f" [{klass.name}]" if klass is not None else ""))
    for v in diff.violations():
        lines.append(f"  [{v['level']}]{' (new)' if v['new'] else ''} {v['policy']} on {v['resource']}: {v['message']}")
    return "\n".join(lines) + "\n"


def to_json(diff: PlanDiff, base_ref: str) -> dict[str, Any]:
    return {
        "summary": summary(diff, base_ref),
        "summaryLine": summary_line(diff, base_ref, markdown=False),
        "changes": [c.to_json() for c in diff.changes],
        "stateLoss": [{"cluster": c.cluster, "object": c.object_name, "reason": r} for c, r in diff.state_loss],
        "violations": diff.violations(),
        "resolvedViolations": diff.resolved_violations(),
        "waivers": diff.head.get("waivers", []),
        "memory": [m.to_json() for m in memory_changes(diff)],
    }


def render(diff: PlanDiff, base_ref: str, fmt: str) -> str:
    if fmt == "markdown":
        return markdown(diff, base_ref)
    if fmt == "json":
        return json.dumps(to_json(diff, base_ref), indent=2, default=str) + "\n"
    return text(diff, base_ref)
