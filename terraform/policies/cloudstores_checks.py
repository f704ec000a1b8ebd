"""Custom checkov checks for the cloudstores Terraform modules.

Checkov's built-in checks do not look at what makes these buckets immutable:
the S3 Object Lock configuration, the content of the S3 bucket policy
(TLS-only access and create-only writes), the Azure container immutability
policy and the GCS retention policy. These checks do.

Loaded with: checkov -d terraform/ --external-checks-dir terraform/policies
"""

from __future__ import annotations

import json
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# Key prefixes cloudstores writes create-only (relative to the module prefix): a copy
# of cloudstores.stores.layout.CREATE_ONLY_AREAS (checkov runs without cloudstores
# installed); tests/stores/test_layout.py fails when they differ.
IMMUTABLE_PREFIXES = ("artifacts", "blobs", "runs", "workflows", "audit", "records", "documents", "_index")


def _first(value: Any) -> Any:
    """Checkov wraps attribute values in one-element lists; unwrap them."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _blocks(conf: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = conf.get(name) or []
    if isinstance(value, dict):
        return [value]
    return [b for b in value if isinstance(b, dict)]


def _is_unresolved(value: Any) -> bool:
    """A reference checkov could not evaluate (for example a required variable)."""
    return isinstance(value, str) and value.startswith(("var.", "local.", "${"))


def _positive_number(value: Any) -> bool:
    value = _first(value)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value > 0
    if isinstance(value, str):
        try:
            return float(value) > 0
        except ValueError:
            # A variable reference: the modules validate it (> 0) themselves.
            return _is_unresolved(value)
    return False


def _truthy(value: Any) -> bool:
    value = _first(value)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _policy_statements(conf: dict[str, Any]) -> list[dict[str, Any]]:
    policy = _first(conf.get("policy"))
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _lower_keys(mapping: Any) -> dict[str, Any]:
    if not isinstance(mapping, dict):
        return {}
    return {str(k).lower(): v for k, v in mapping.items()}


def _condition_value(statement: dict[str, Any], operator: str, key: str) -> Any:
    condition = _lower_keys(statement.get("Condition"))
    return _lower_keys(condition.get(operator.lower())).get(key.lower())


def _principal_is_everyone(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _actions(statement: dict[str, Any]) -> set[str]:
    return {str(a).lower() for a in _as_list(statement.get("Action"))}


class S3BucketObjectLockEnabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: S3 bucket is created with Object Lock enabled",
            id="CKV_CLOUDSTORES_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_s3_bucket"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["object_lock_enabled"]
        return CheckResult.PASSED if _truthy(conf.get("object_lock_enabled")) else CheckResult.FAILED


class S3ObjectLockDefaultRetention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: S3 Object Lock configuration sets a default retention (GOVERNANCE or COMPLIANCE, > 0 days)",
            id="CKV_CLOUDSTORES_2",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_s3_bucket_object_lock_configuration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["rule/[0]/default_retention"]
        for rule in _blocks(conf, "rule"):
            for retention in _blocks(rule, "default_retention"):
                mode = _first(retention.get("mode"))
                mode_ok = mode in ("GOVERNANCE", "COMPLIANCE") or _is_unresolved(mode)
                period_ok = _positive_number(retention.get("days")) or _positive_number(retention.get("years"))
                if mode_ok and period_ok:
                    return CheckResult.PASSED
        return CheckResult.FAILED


class S3BucketPolicyDeniesInsecureTransport(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: S3 bucket policy denies every request without TLS (aws:SecureTransport = false)",
            id="CKV_CLOUDSTORES_3",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["policy"]
        for statement in _policy_statements(conf):
            if str(statement.get("Effect", "")).lower() != "deny":
                continue
            if not _principal_is_everyone(statement):
                continue
            if not _actions(statement) & {"s3:*", "*"}:
                continue
            secure = _first(_condition_value(statement, "Bool", "aws:SecureTransport"))
            if secure is not None and not _truthy(secure):
                resources = [str(r) for r in _as_list(statement.get("Resource"))]
                if any(r.endswith("/*") for r in resources) and any(not r.endswith("/*") for r in resources):
                    return CheckResult.PASSED
        return CheckResult.FAILED


class S3BucketPolicyRequiresConditionalWrites(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: S3 bucket policy denies PutObject without If-None-Match on the immutable prefixes",
            id="CKV_CLOUDSTORES_4",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["policy"]
        covered: set[str] = set()
        for statement in _policy_statements(conf):
            if str(statement.get("Effect", "")).lower() != "deny":
                continue
            if not _principal_is_everyone(statement):
                continue
            if not _actions(statement) & {"s3:putobject", "s3:*"}:
                continue
            if not _truthy(_condition_value(statement, "Null", "s3:if-none-match")):
                continue
            for resource in _as_list(statement.get("Resource")):
                for prefix in IMMUTABLE_PREFIXES:
                    if str(resource).endswith(f"ws/*/{prefix}/*"):
                        covered.add(prefix)
        return CheckResult.PASSED if covered == set(IMMUTABLE_PREFIXES) else CheckResult.FAILED


class AzureContainerImmutabilityPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: Azure container immutability policy has a positive retention and no append writes",
            id="CKV_CLOUDSTORES_5",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["azurerm_storage_container_immutability_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = [
            "immutability_period_in_days",
            "protected_append_writes_enabled",
            "protected_append_writes_all_enabled",
        ]
        if not _positive_number(conf.get("immutability_period_in_days")):
            return CheckResult.FAILED
        if _truthy(conf.get("protected_append_writes_enabled")) or _truthy(conf.get("protected_append_writes_all_enabled")):
            return CheckResult.FAILED
        return CheckResult.PASSED


class GcsBucketRetentionPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="cloudstores: GCS bucket has a retention policy with a positive retention period",
            id="CKV_CLOUDSTORES_6",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["google_storage_bucket"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["retention_policy/[0]/retention_period"]
        for policy in _blocks(conf, "retention_policy"):
            if _positive_number(policy.get("retention_period")):
                return CheckResult.PASSED
        return CheckResult.FAILED


check_s3_object_lock_enabled = S3BucketObjectLockEnabled()
check_s3_object_lock_retention = S3ObjectLockDefaultRetention()
check_s3_tls_only = S3BucketPolicyDeniesInsecureTransport()
check_s3_conditional_writes = S3BucketPolicyRequiresConditionalWrites()
check_azure_immutability = AzureContainerImmutabilityPolicy()
check_gcs_retention = GcsBucketRetentionPolicy()
