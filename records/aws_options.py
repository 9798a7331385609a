"""AWS connection options shared by every command that talks to AWS.

`--profile`, `--region` and `--endpoint-url` map onto an aiobotocore session; the standard `AWS_*`
variables (including `AWS_ENDPOINT_URL_<SERVICE>`) keep working because botocore reads them itself,
except AWS_REGION: botocore reads the region from AWS_DEFAULT_REGION (or the profile), not from
AWS_REGION, so the sentences below say so.

Configuration errors (public API):
    AwsConfigError(ValueError)        the configuration cannot work; str() is one sentence for the user
    AwsOptions.check(needs_region=True)   raises AwsConfigError for an unknown profile, or no region
                                      when one is needed (commands call it first and exit 2)
    config_problem(exc) -> str | None the sentence for botocore's NoRegionError / ProfileNotFound
    region_missing() -> str; profile_missing(profile) -> str
    async whereabouts(aws, region) -> str   "region R, account A": where a lookup looked
"""

from __future__ import annotations

import asyncio
import os
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

    def check(self, *, needs_region: bool = True) -> None:
        """Raise AwsConfigError when the profile does not exist, or when no region is set and one
        is needed (an ARN or AWS URL naming its region does not need one)."""
        from botocore.exceptions import ProfileNotFound

        session = self.session()
        try:
            session.get_scoped_config()
            region = self.region or session.get_config_variable("region")
        except ProfileNotFound as exc:
            raise AwsConfigError(profile_missing(str(exc.kwargs.get("profile", "")))) from exc
        if needs_region and not region:
            raise AwsConfigError(region_missing())


class AwsConfigError(ValueError):
    """The AWS configuration cannot work (unknown profile, no region); the message says how to fix it."""


def region_missing() -> str:
    set_but_ignored = os.environ.get("AWS_REGION")
    note = (
        f"AWS_REGION={set_but_ignored} is set, but botocore does not read AWS_REGION"
        if set_but_ignored
        else "botocore does not read AWS_REGION"
    )
    return f"no AWS region is set: pass --region REGION or set AWS_DEFAULT_REGION ({note})"


def profile_missing(profile: str) -> str:
    origin = "--profile" if os.environ.get("AWS_PROFILE") != profile else "AWS_PROFILE"
    config = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return (
        f"the AWS profile {profile!r} (from {origin}) is in neither {config} nor {credentials}: "
        f"create it (aws configure --profile {profile}) or name another one"
    )


def config_problem(exc: BaseException) -> str | None:
    """The sentence for a configuration error botocore raised, None for anything else."""
    from botocore.exceptions import NoRegionError, ProfileNotFound

    if isinstance(exc, NoRegionError):
        return region_missing()
    if isinstance(exc, ProfileNotFound):
        return profile_missing(str(exc.kwargs.get("profile", "")))
    return None


async def whereabouts(aws: AwsOptions, region: str | None) -> str:
    """Where a lookup looked: "region R, account A" (the account from STS; left out when it cannot
    be had within a few seconds)."""
    where = f"region {region or 'unknown'}"
    try:
        kwargs = aws.client_kwargs()
        if region and "region_name" not in kwargs:
            kwargs["region_name"] = region
        async with aws.session().create_client("sts", **kwargs) as sts:
            identity = await asyncio.wait_for(sts.get_caller_identity(), 5)
    except Exception:  # only an embellishment of a sentence being written: never fail it
        return where
    return f"{where}, account {identity.get('Account', 'unknown')}"
