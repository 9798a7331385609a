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
        kwargs: dict[str, Any] = {}
        if self.region:
            kwargs["region_name"] = self.region
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return kwargs
