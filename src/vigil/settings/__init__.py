"""Vigil's settings: the models (one root of grouped sections) and the YAML loader with
``file:line: field: problem`` errors. Imported by every layer above ``model`` and ``errors``.
"""

from __future__ import annotations

from vigil.settings._address import address_warnings
from vigil.settings._loader import load_settings, parse_settings, place_problems
from vigil.settings._logs import (
    FORMAT_PRESETS,
    LogAnalysisSettings,
    LogSource,
    LogsSettings,
    source_label,
)
from vigil.settings._metrics import (
    MetricsSettings,
    PromQuery,
    ScrapeTarget,
)
from vigil.settings._models import (
    PLACEHOLDERS,
    AgentToken,
    ApiSettings,
    ApiToken,
    BalancePolicy,
    BalancerSettings,
    CrashLoop,
    ExecProbe,
    HeartbeatSettings,
    HttpProbe,
    LogSettings,
    NodeSettings,
    Probe,
    RestartPolicy,
    Service,
    Settings,
    StoreSettings,
    TcpProbe,
)
from vigil.settings._remediation import (
    EffectiveRemediation,
    MaintenanceWindow,
    RateLimit,
    RemediationSettings,
    ServiceRemediation,
    effective_remediation,
)
from vigil.settings._rules import (
    MetricRule,
    RuleExpr,
    parse_rule_expr,
)
from vigil.settings._types import (
    Bytes,
    Loc,
    Role,
    Seconds,
    hash_token,
)

__all__ = [
    "FORMAT_PRESETS",
    "PLACEHOLDERS",
    "AgentToken",
    "ApiSettings",
    "ApiToken",
    "BalancePolicy",
    "BalancerSettings",
    "Bytes",
    "CrashLoop",
    "EffectiveRemediation",
    "ExecProbe",
    "HeartbeatSettings",
    "HttpProbe",
    "Loc",
    "LogAnalysisSettings",
    "LogSettings",
    "LogSource",
    "LogsSettings",
    "MaintenanceWindow",
    "MetricRule",
    "MetricsSettings",
    "NodeSettings",
    "Probe",
    "PromQuery",
    "RateLimit",
    "RemediationSettings",
    "RestartPolicy",
    "Role",
    "RuleExpr",
    "ScrapeTarget",
    "Seconds",
    "Service",
    "ServiceRemediation",
    "Settings",
    "StoreSettings",
    "TcpProbe",
    "address_warnings",
    "effective_remediation",
    "hash_token",
    "load_settings",
    "parse_rule_expr",
    "parse_settings",
    "place_problems",
    "source_label",
]
