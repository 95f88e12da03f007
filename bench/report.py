"""Markdown tables of a benchmark run: throughput with ratios, details, and scaling."""

from __future__ import annotations

from typing import Any

SYSTEM_ORDER = ("kinto", "cliquetish", "bare", "bare_acl")


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "n/a"
    return f"{numerator / denominator:.2f}"


def _rps(figures: dict[str, Any] | None) -> float | None:
    return figures["ok_per_second"] if figures else None


def _p50(figures: dict[str, Any]) -> str:
    """p50 in ms, or why there is none (no answer came back within the run)."""
    if not figures["answered"]:
        lone = figures.get("lone_request_ms")
        alone = f" (one request alone: {lone:,.0f} ms)" if lone else ""
        return f"no answer in {figures['duration_seconds']:g} s{alone}"
    return f"{figures['p50_ms']:.2f}"


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _cpu(figures: dict[str, Any]) -> str:
    """CPU time per answer: the app's workers + their PostgreSQL backends, in ms."""
    if "app_cpu_ms_per_answer" not in figures:
        return "n/a"
    return f"{figures['app_cpu_ms_per_answer']:.2f} + {figures['db_cpu_ms_per_answer']:.2f}"


def _total_cpu(figures: dict[str, Any] | None) -> float | None:
    if not figures or "app_cpu_ms_per_answer" not in figures:
        return None
    return figures["app_cpu_ms_per_answer"] + figures["db_cpu_ms_per_answer"]


def cpu_table(results: dict[str, dict[str, Any]], labels: dict[str, str],
              workloads: list[tuple[str, str]]) -> list[str]:
    """CPU ms per answer (workers + their PostgreSQL backends): less sensitive to the
    machine's background load than req/s. Ratios are Kinto/cliquetish, bare/cliquetish and
    (bare + permissions)/cliquetish (above 1: cliquetish spends less)."""
    systems = [name for name in SYSTEM_ORDER if name in results]
    lines = ["| workload | " + " | ".join(f"{labels[s]} CPU ms" for s in systems)
             + " | Kinto/cliquetish | bare/cliquetish | (bare + permissions)/cliquetish |",
             "|---" * (len(systems) + 4) + "|"]
    for name, label in workloads:
        row = [label] + [_fmt(_total_cpu(results[s].get(name)), 2) for s in systems]
        cliquetish = _total_cpu(results.get("cliquetish", {}).get(name))
        for other in ("kinto", "bare", "bare_acl"):
            row.append(_ratio(_total_cpu(results.get(other, {}).get(name)), cliquetish))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def throughput_table(results: dict[str, dict[str, Any]], labels: dict[str, str],
                     workloads: list[tuple[str, str]]) -> list[str]:
    """ok req/s of each system per workload, with cliquetish/Kinto, cliquetish/bare and
    cliquetish/(bare + permissions)."""
    systems = [name for name in SYSTEM_ORDER if name in results]
    lines = ["| workload | " + " | ".join(f"{labels[s]} ok req/s" for s in systems)
             + " | cliquetish/Kinto | cliquetish/bare | cliquetish/(bare + permissions) |",
             "|---" * (len(systems) + 4) + "|"]
    for name, label in workloads:
        row = [label]
        for system in systems:
            figures = results[system].get(name)
            text = _fmt(_rps(figures))
            if figures and figures["error_percent"] > 0:
                text += f" ({figures['error_percent']:.1f} % errors)"
            row.append(text)
        cliquetish = _rps(results.get("cliquetish", {}).get(name))
        for other in ("kinto", "bare", "bare_acl"):
            row.append(_ratio(cliquetish, _rps(results.get(other, {}).get(name))))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def detail_table(results: dict[str, dict[str, Any]], labels: dict[str, str],
                 workloads: list[tuple[str, str]]) -> list[str]:
    """Every figure of every run."""
    lines = ["| system | workload | ok req/s | errors % | statuses | p50 ms | p99 ms "
             "| peak RSS MiB (workers) | CPU ms/answer app + PostgreSQL | answers "
             "| load avg before | ok req/s of each round |", "|---" * 12 + "|"]
    for system in [name for name in SYSTEM_ORDER if name in results]:
        for name, label in workloads:
            figures = results[system].get(name)
            if not figures:
                continue
            statuses = ", ".join(f"{code}: {count}" for code, count in figures["statuses"].items())
            socket = sum(figures["socket_errors"].values())
            if socket:
                statuses += f", socket errors: {socket}"
            lines.append(
                f"| {labels[system]} | {label} | {_fmt(figures['ok_per_second'])} "
                f"| {figures['error_percent']:.2f} | {statuses or 'none'} | {_p50(figures)} "
                f"| {figures['p99_ms']:.2f} | {figures['peak_rss_mib']:.0f} | {_cpu(figures)} "
                f"| {figures['answered']:,} | {figures.get('load_average_before', 'n/a')} "
                f"| {', '.join(f'{v:g}' for v in figures.get('rounds_ok_per_second', []))} |")
    return lines


def scaling_table(small: dict[str, dict[str, Any]], big: dict[str, dict[str, Any]],
                  labels: dict[str, str], workloads: list[tuple[str, str]],
                  small_count: int, big_count: int) -> list[str]:
    """List p50 on the large collection against the small one."""
    lines = [f"| system | workload | p50 ms @ {small_count:,} | p50 ms @ {big_count:,} "
             f"| ratio | ok req/s @ {big_count:,} |", "|---" * 6 + "|"]
    for system in [name for name in SYSTEM_ORDER if name in big]:
        for name, label in workloads:
            before, after = small.get(system, {}).get(name), big[system].get(name)
            if not before or not after:
                continue
            ratio = _ratio(after["p50_ms"], before["p50_ms"]) if after["answered"] else "n/a"
            lines.append(
                f"| {labels[system]} | {label} | {_p50(before)} | {_p50(after)} "
                f"| {ratio} | {_fmt(after['ok_per_second'])} |")
    return lines


def markdown(run: dict[str, Any], workloads: list[tuple[str, str]]) -> str:
    """The whole report of a run."""
    meta, labels = run["meta"], run["labels"]
    sort_indexes = ", ".join(meta.get("cliquetish_sort_indexes", [])) or "none"
    lines = [f"# Benchmark run {meta['started']}", "",
             f"- machine: {meta['machine']}",
             f"- load: wrk, {meta['connections']} connections, {meta['threads']} threads, "
             f"{meta.get('rounds', 1)} rounds of {meta['duration']} s per workload and system "
             f"(each after {meta['warmup']} s warm-up; the median round is shown), "
             f"at most {meta['max_requests']:,} requests; gunicorn {meta['workers']} sync "
             f"workers per system; systems {meta.get('mode', 'sequential')}",
             f"- collection: {meta['records']:,} records; cliquetish sort indexes (operator-"
             f"created, docs/backends.rst): {sort_indexes}",
             f"- command: `{meta['command']}`; cliquetish source: {meta.get('source', 'n/a')}",
             "",
             "## Throughput", "", *throughput_table(run["results"], labels, workloads), "",
             "## CPU time per answer (workers + their PostgreSQL backends)", "",
             *cpu_table(run["results"], labels, workloads), "",
             "## Details", "", *detail_table(run["results"], labels, workloads)]
    if run.get("big"):
        listed = [(name, label) for name, label in workloads if name in run["big_workloads"]]
        paired = ("Each system's large twin (same server command, its own database) was timed "
                  "right after it in every round of the list workloads: both p50s come from "
                  "the same pass.")
        lines += ["", f"## List latency on {meta['big_records']:,} records", "", paired, "",
                  *scaling_table(run["results"], run["big"], labels, listed,
                                 meta["records"], meta["big_records"])]
    if run.get("failures"):
        lines += ["", "## Failures (wrong answers or errors: not timed)", ""]
        lines += [f"- {failure}" for failure in run["failures"]]
    return "\n".join(lines) + "\n"
