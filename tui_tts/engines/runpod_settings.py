"""The RunPod engine's config section: which endpoint (or pool of them), the job input, and how jobs are waited for."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from tui_tts.config import HTTP_ADDRESS, SAME_AUDIO, EngineSettings


class RunpodSettings(EngineSettings):
    """A RunPod serverless endpoint. Which endpoint, the job input and where the audio is in the answer change the
    audio; how it is reached, waited for and priced do not."""

    endpoint_id: str = ""
    endpoint_url: Annotated[str, HTTP_ADDRESS] = ""
    api_key_env: Annotated[str, Field(min_length=1), SAME_AUDIO] = "RUNPOD_API_KEY"
    mode: Annotated[Literal["run", "runsync", "stream"], SAME_AUDIO] = "run"
    input: dict[str, Any] = Field(default_factory=lambda: {"text": "{text}"})
    audio_field: str = "audio_base64"
    policy: dict[str, int | bool] = Field(default_factory=dict)
    cost_per_second: Annotated[float, Field(ge=0), SAME_AUDIO] = 0.0
    realtime_factor: Annotated[float, Field(gt=0, le=100), SAME_AUDIO] = 0.1
    poll_initial: Annotated[float, Field(gt=0, le=60), SAME_AUDIO] = 0.25
    poll_max: Annotated[float, Field(gt=0, le=300), SAME_AUDIO] = 5.0
    runsync_wait_ms: Annotated[int, Field(ge=1000, le=300_000), SAME_AUDIO] = 60_000
    job_deadline: Annotated[float, Field(gt=0), SAME_AUDIO] = 600.0
    request_timeout: Annotated[float, Field(gt=0), SAME_AUDIO] = 120.0
    health_interval: Annotated[float, Field(ge=0.5, le=3600), SAME_AUDIO] = 10.0
    # false: an endpoint whose /health shows no usable worker is warned about, not refused, before a run
    refuse_unusable: Annotated[bool, SAME_AUDIO] = True
    # /run requests sent at once, each held until its job id is journaled: a kill -9 pays again for at most this many
    submit_at_once: Annotated[int, Field(ge=1, le=64), SAME_AUDIO] = 2
    endpoints: Annotated[list[dict[str, Any]], SAME_AUDIO] = Field(default_factory=list)  # a pool (engines/pool.py)
    voices: Annotated[list[str], SAME_AUDIO] = Field(default_factory=list)  # for `tui-tts voices` (none are listed)

    def audio_identity(self) -> dict[str, object]:
        identity = super().audio_identity()
        if self.endpoints:  # which endpoints serve a pool is part of its audio; their limits, keys and prices are not
            from tui_tts.engines.pool import endpoint_identity

            identity["endpoints"] = [endpoint_identity(entry) for entry in self.endpoints]
        return identity

    @field_validator("policy")
    @classmethod
    def _known_policy_keys(cls, value: dict[str, int | bool]) -> dict[str, int | bool]:
        allowed = {"executionTimeout", "ttl", "lowPriority"}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ValueError(f"unknown policy key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        return value
