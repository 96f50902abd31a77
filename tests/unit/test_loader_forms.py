"""Every topology form the seed allowed loads into the same model."""

from __future__ import annotations

from attak_cdk.model import StreamSettings


def test_stream_settings_default_to_aws_names_and_finite_retries() -> None:
    settings = StreamSettings()
    assert settings.retry_attempts == 10
    assert settings.bisect_batch_on_error is True
    assert settings.starting_position == "TRIM_HORIZON"
