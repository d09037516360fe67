"""Prometheus configuration, alert rules and the Grafana dashboard: they parse, and every
metric they query is one the services expose."""

from __future__ import annotations

import re

import pytest

import rewind_api.metrics as api_metrics
from rewind_common import metrics as common_metrics
from tests.unit.deploy.support import (
    DEPLOY,
    PROMETHEUS_DIR,
    PROMETHEUS_SERIES,
    alert_rules,
    compose,
    dashboard,
    dashboard_expressions,
    dashboard_panels,
    exposed_series,
    families,
    load_yaml,
    parse_promql,
    queried_metrics,
    rewind_services,
    services,
)

#: The API's request latency histogram (``rewind_api.metrics``).
API_LATENCY = "rewind_api_request_duration_seconds"
REQUIRED_ALERTS = {
    "RewindSnapshotOverdue",
    "RewindSnapshotIncomplete",
    "RewindRecoveryFailed",
    "RewindSnapshotVerifyFailed",
    "RewindGraphThrottled",
    "RewindQueueBacklog",
}


def service_families() -> dict[str, str]:
    """Every metric family the services define: the shared ones and the API's."""
    shared = families(common_metrics)
    assert set(shared) == set(common_metrics.metric_names()), "metric_names() is complete"
    return shared | families(api_metrics)


def exposed() -> dict[str, str]:
    return exposed_series(service_families())


# -- the PromQL reader itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("rewind_jobs_total", {"rewind_jobs_total"}),
        (
            "histogram_quantile(0.95, sum by (kind, le) "
            '(rate(x_bucket{kind="a"}[$__rate_interval])))',
            {"x_bucket"},
        ),
        (
            "sum(increase(a_total[$__range])) / clamp_min(sum(increase(b_total[1d] offset 1h)), 1)",
            {"a_total", "b_total"},
        ),
        ('time() - max by (tenant) (g{tenant=~"$tenant"}) > 2 * 3600', {"g"}),
        ('up{job=~"rewind-.*"} == 0 and on (job) c', {"up", "c"}),
    ],
)
def test_queried_metrics_reads_selectors_only(expression: str, names: set[str]) -> None:
    assert queried_metrics(expression) == names


def test_exposed_series_follow_prometheus_naming() -> None:
    series = exposed_series({"a": "counter", "b": "histogram", "c": "gauge"})
    assert set(series) == {"a_total", "b_bucket", "b_sum", "b_count", "c"}


def test_service_metrics_follow_prometheus_conventions() -> None:
    for name, kind in service_families().items():
        assert name.startswith("rewind_"), name
        assert not name.endswith("_total"), f"{name}: prometheus-client adds _total itself"
        if kind == "histogram":
            assert name.endswith("_seconds"), f"{name}: durations in seconds"
        if "bytes" in name:
            assert name.endswith(("_bytes", "_bytes_total")) or kind == "counter", name


# -- Prometheus ---------------------------------------------------------------------------


def test_prometheus_config_scrapes_every_rewind_service() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scraped = {
        name
        for job in jobs.values()
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    expected = set(rewind_services()) - {"graph-emulator"}
    assert scraped == expected
    for name in expected:
        assert f"rewind-{name}" in jobs, "alerts match jobs by the rewind- prefix"


def test_prometheus_loads_the_alert_rules_it_is_given() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    mounts = dict(reversed(volume.split(":")[:2]) for volume in services()["prometheus"]["volumes"])
    for rule_file in config["rule_files"]:
        assert rule_file in mounts, f"{rule_file} is not mounted into the container"
        assert (DEPLOY / mounts[rule_file]).resolve() == (PROMETHEUS_DIR / "alerts.yml")
    command = " ".join(services()["prometheus"]["command"])
    assert (
        f"--config.file={next(k for k, v in mounts.items() if v.endswith('prometheus.yml'))}"
        in (command)
    )


def test_alert_rules_are_well_formed() -> None:
    seen: set[str] = set()
    for rule in alert_rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert rule["alert"] not in seen
        seen.add(rule["alert"])
        assert re.fullmatch(r"Rewind[A-Z][A-Za-z]+", rule["alert"])
        parse_promql(rule["expr"])
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
        anchor = rule["alert"].lower()
        assert rule["annotations"]["runbook"] == f"deploy/README.md#{anchor}"
        readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
        assert f"### {rule['alert']}" in readme, f"README explains {rule['alert']}"
    assert seen >= REQUIRED_ALERTS


def rule(name: str) -> dict[str, str]:
    return next(r for r in alert_rules() if r["alert"] == name)


def test_snapshot_overdue_fires_after_two_of_the_tenants_own_intervals() -> None:
    expression = " ".join(rule("RewindSnapshotOverdue")["expr"].split())
    assert expression.endswith("> 2 * max by (tenant) (rewind_snapshot_interval_seconds > 0)")
    assert "rewind_last_successful_snapshot_timestamp_seconds" in expression


def test_snapshot_incomplete_names_the_tenant_type_and_part_missing() -> None:
    incomplete = rule("RewindSnapshotIncomplete")
    assert queried_metrics(incomplete["expr"]) == {"rewind_snapshot_unread_types"}
    assert "by (tenant, type, part)" in incomplete["expr"]
    assert incomplete["expr"].rstrip().endswith("> 0")


def test_recovery_failed_counts_failed_recovery_jobs() -> None:
    expression = rule("RewindRecoveryFailed")["expr"]
    assert 'rewind_jobs_total{kind="recovery", status="Failed"}' in expression
    assert "increase(" in expression


def test_snapshot_verify_failed_counts_failed_verify_jobs() -> None:
    expression = rule("RewindSnapshotVerifyFailed")["expr"]
    assert 'rewind_jobs_total{kind="verify", status="Failed"}' in expression
    assert "increase(" in expression


def test_graph_throttled_is_sustained_429s() -> None:
    throttled = rule("RewindGraphThrottled")
    assert 'status="429"' in throttled["expr"]
    assert "[10m]" in throttled["expr"]
    assert throttled["for"] == "10m"


def test_queue_backlog_lasts_fifteen_minutes() -> None:
    backlog = rule("RewindQueueBacklog")
    assert queried_metrics(backlog["expr"]) == {"rewind_queue_depth"}
    assert backlog["for"] == "15m"


@pytest.mark.parametrize("name", sorted(r["alert"] for r in alert_rules()))
def test_alert_rules_query_only_exposed_metrics(name: str) -> None:
    unknown = queried_metrics(rule(name)["expr"]) - set(exposed()) - PROMETHEUS_SERIES
    assert not unknown, f"{name} queries metrics no service exposes: {sorted(unknown)}"


# -- Grafana ------------------------------------------------------------------------------


def test_dashboard_queries_only_exposed_metrics() -> None:
    known = set(exposed()) | PROMETHEUS_SERIES
    problems = {
        where: sorted(queried_metrics(expression) - known)
        for where, expression in dashboard_expressions().items()
    }
    assert not {where: names for where, names in problems.items() if names}


def test_dashboard_has_a_panel_for_every_metric_family() -> None:
    series = exposed()
    shown = {
        series[name]
        for expression in dashboard_expressions().values()
        for name in queried_metrics(expression)
        if name in series
    }
    missing = set(service_families()) - shown
    assert not missing, f"no panel shows {sorted(missing)}"


def test_dashboard_shows_api_latency_quantiles() -> None:
    expressions = " ".join(dashboard_expressions().values())
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (le) (rate({API_LATENCY}_bucket" in (
            expressions
        )


def test_dashboard_shows_the_deduplication_ratio() -> None:
    ratio = [
        expression
        for expression in dashboard_expressions().values()
        if "rewind_snapshot_logical_bytes_total" in expression
        and "rewind_snapshot_stored_bytes_total" in expression
        and "/" in expression
    ]
    assert ratio


def test_dashboard_panels_are_well_formed() -> None:
    board = dashboard()
    assert board["uid"]
    assert board["title"]
    ids = [panel["id"] for panel in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard_panels():
        position = panel["gridPos"]
        assert position["x"] >= 0
        assert position["x"] + position["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs))


def test_dashboard_datasource_variable_defaults_to_the_provisioned_prometheus() -> None:
    provisioned = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    (source,) = provisioned["datasources"]
    assert source["url"] == "http://prometheus:9090"
    variable = next(v for v in dashboard()["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"]["value"] == source["uid"]


def test_grafana_is_provisioned_with_the_dashboards() -> None:
    provider = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "rewind.yml")
    path = provider["providers"][0]["options"]["path"]
    mounts = dict(reversed(volume.split(":")[:2]) for volume in services()["grafana"]["volumes"])
    assert (DEPLOY / mounts[path]).resolve() == (DEPLOY / "grafana" / "dashboards").resolve()
    assert (DEPLOY / mounts["/etc/grafana/provisioning"]).is_dir()
    assert compose()["services"]["grafana"]["depends_on"] == {
        "prometheus": {"condition": "service_healthy"}
    }
