"""AWS connection options shared by every command that talks to AWS.

`--profile`, `--region` and `--endpoint-url` map onto an aiobotocore session; the standard `AWS_*`
variables (including `AWS_ENDPOINT_URL_<SERVICE>`) keep working because botocore reads them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily: aiobotocore costs ~0.2 s to import and `inspect` never needs it
    from aiobotocore.session import AioSession


@dataclass(frozen=True, slots=True)
class AwsOptions:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def session(self) -> AioSession:
        from aiobotocore.session import get_session

        session = get_session()
        if self.profile:
            session.set_config_variable("profile", self.profile)
        return session

    def client_kwargs(self) -> dict[str, Any]:
        """Arguments of `create_client` for one-off calls (an invoke, discovery): botocore's own
        retries (its default mode) are the only retrying around them."""
        kwargs: dict[str, Any] = {}
        if self.region:
            kwargs["region_name"] = self.region
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return kwargs

    def source_client_kwargs(self) -> dict[str, Any]:
        """Arguments of `create_client` for a source's client (queues, taps, S3 replay).

        One owner of retrying: a source retries with its own back-off (records.sources.faults)
        and reports every fault as a status, so botocore's retries are off here (one attempt a
        call). Both retrying would hide outages from the source: a call that botocore retried
        through an endpoint restart reached the new, empty endpoint looking like a first call, and
        its "does not exist" ended the source at once instead of being waited out (the source's
        grace for a resource to reappear starts at a network fault it sees), while the status line
        said "live" during the outage. Time-outs stay botocore's defaults.
        """
        from aiobotocore.config import AioConfig

        kwargs = self.client_kwargs()
        kwargs["config"] = AioConfig(retries={"mode": "standard", "total_max_attempts": 1})
        return kwargs
