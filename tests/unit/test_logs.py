"""Residents' phone numbers and addresses never reach a log line."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from engine.logs import configure_logging, get_logger


def test_personal_data_is_redacted_from_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    log = get_logger("test", demand_id="demand-wechat-1")
    log.info("collected", phone="13800138000", address="Building 3, Room 402",
             note="call me on 138 0013 8000", resident={"name": "Li", "phone": "13800138000"})  # fmt: skip
    logging.getLogger().handlers[0].flush()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["demand_id"] == "demand-wechat-1"
    assert "13800138000" not in line
    assert "0013" not in line
    assert "Building 3" not in line
    structlog.reset_defaults()
