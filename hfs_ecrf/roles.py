"""The four study roles, their groups and what each may do. Pure data, no Django imports."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLINICIAN = "clinician"
    MONITOR = "monitor"
    INVESTIGATOR = "investigator"
    DATA_MANAGER = "data_manager"


# Group names are stored in the database; they are translated only when displayed.
GROUP_NAMES: dict[Role, str] = {
    Role.CLINICIAN: "Clinician",
    Role.MONITOR: "Monitor",
    Role.INVESTIGATOR: "Investigator",
    Role.DATA_MANAGER: "Data manager",
}

# Study capabilities, stored as permissions of hfs_ecrf.StudyPermission.
CAPABILITIES: dict[str, str] = {
    "view_study_data": "View study data of own sites",
    "enter_data": "Enter and edit clinical data at own sites",
    "view_identity": "See patients' identifying data at own sites",
    "randomise": "Randomise patients at own sites",
    "verify_data": "Verify forms and raise data queries",
    "view_all_sites": "See all sites",
    "view_analysis": "Open the analysis dashboards",
    "export_data": "Export study data",
    "manage_allocation": "Manage the allocation list",
    "lock_data": "Lock and unlock forms, visits, patients and the database",
    "sign_casebook": "Sign patients' casebooks electronically",
}

ROLE_CAPABILITIES: dict[Role, set[str]] = {
    Role.CLINICIAN: {"view_study_data", "enter_data", "view_identity", "randomise"},
    Role.MONITOR: {"view_study_data", "verify_data"},
    Role.INVESTIGATOR: {"view_study_data", "view_all_sites", "view_analysis", "sign_casebook"},
    Role.DATA_MANAGER: {
        "view_study_data",
        "view_all_sites",
        "view_analysis",
        "export_data",
        "manage_allocation",
        "lock_data",
    },
}

# Django model permissions the data manager needs in the admin.
DATA_MANAGER_ADMIN_PERMISSIONS: list[tuple[str, str]] = [
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("auth", "view_user"),
    ("auth", "view_group"),
    ("patients", "add_site"),
    ("patients", "change_site"),
    ("patients", "view_site"),
    ("patients", "add_sitemembership"),
    ("patients", "change_sitemembership"),
    ("patients", "delete_sitemembership"),
    ("patients", "view_sitemembership"),
    ("hfs_ecrf", "view_securityevent"),
]
