"""The offline audit of a bundle: `audit(source, policy=..., mapper=...) -> AuditReport`."""

from ledger.audit.entries import BundleResult, BundleTask, check_bundle
from ledger.audit.report import AuditReport, Finding, LogSummary
from ledger.audit.rules import EntryReader, EntryRules
from ledger.audit.runner import Mapper, Progress, audit

__all__ = [
    "AuditReport",
    "BundleResult",
    "BundleTask",
    "EntryReader",
    "EntryRules",
    "Finding",
    "LogSummary",
    "Mapper",
    "Progress",
    "audit",
    "check_bundle",
]
