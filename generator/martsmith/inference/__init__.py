"""Test inference: data tests that fit the data, from a profile (`infer`), from rules in plain
words (`rules`), checked against the data before they are kept (`check`), and merged into the
project's YAML without touching what the user wrote (`merge`). `suite` sequences them for
`martsmith tests`.
"""

from martsmith.inference.check import CheckResult, check_tests
from martsmith.inference.infer import infer_tests
from martsmith.inference.merge import YamlMergeError, merge_tests
from martsmith.inference.rules import RulesError, assign_rules, parse_rules

__all__ = [
    "CheckResult",
    "check_tests",
    "infer_tests",
    "merge_tests",
    "YamlMergeError",
    "parse_rules",
    "assign_rules",
    "RulesError",
]
