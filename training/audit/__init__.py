"""Audit a labeled training set: suspected label errors, conflicting duplicates, too-short rows."""

from .core import KINDS, Finding, AuditResult, audit_rows, out_of_fold_proba, rank_label_issues, read_rows
from .duplicates import duplicate_groups

__all__ = ["KINDS", "Finding", "AuditResult", "audit_rows", "out_of_fold_proba", "rank_label_issues", "read_rows", "duplicate_groups"]
