from __future__ import annotations

import pytest

from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from tests.integration.differ.support import DiffHarness
from tests.integration.snapshotter.conftest import harness  # noqa: F401  (fixture)
from tests.integration.snapshotter.support import Harness


@pytest.fixture
async def differ(harness: Harness) -> DiffHarness:  # noqa: F811
    reports = ReportStore(harness.mongo)
    staging = ReportStaging(harness.mongo)
    await reports.ensure_indexes()
    await staging.ensure_indexes()
    return DiffHarness(harness, reports, staging)
