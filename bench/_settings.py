"""Settings of the load benchmark: production settings (DEBUG=0 from the environment) with plain
static file storage, so the benchmark runs whether or not vendor source maps are shipped (the
manifest storage's post-processing needs them; the dashboards' work is the same)."""

from hfs_ecrf.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
