"""Who the AWS options act as (STS GetCallerIdentity), or what is missing and how to fix it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from records.aws_options import AwsOptions

__all__ = ["AccessProblem", "Identity", "caller_identity", "is_local", "problem", "region_of"]

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the AWS options act as: the account id, the caller's ARN and the region used."""

    account: str
    arn: str
    region: str | None


class AccessProblem(Exception):
    """AWS cannot be used as the options say. `missing`: a sentence naming what is missing (an
    unknown profile, no region, an expired SSO session, no credentials, an endpoint that does not
    answer, credentials that expired or that AWS refuses); `fix`: the command that fixes it."""

    def __init__(self, missing: str, fix: str) -> None:
        super().__init__(f"{missing}; {fix}")
        self.missing = missing
        self.fix = fix


def _profile(aws: AwsOptions) -> str:
    return aws.profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def _profile_flag(aws: AwsOptions) -> str:
    profile = _profile(aws)
    return "" if profile == "default" else f" --profile {profile}"


def region_of(aws: AwsOptions) -> str | None:
    """The region the options resolve to: --region, else what botocore finds (AWS_REGION /
    AWS_DEFAULT_REGION, the profile); None when there is none or the profile is unknown."""
    if aws.region:
        return aws.region
    try:
        region = aws.session().get_config_variable("region")
    except ProfileNotFound:
        return None
    return str(region) if region else None


def is_local(aws: AwsOptions) -> bool:
    """Whether the endpoint (--endpoint-url, else AWS_ENDPOINT_URL_LAMBDA or AWS_ENDPOINT_URL) is
    this machine (the sandbox, moto, LocalStack): no real account can be changed through it."""
    endpoint = aws.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_LAMBDA") or os.environ.get("AWS_ENDPOINT_URL") or ""
    host = urlsplit(endpoint).hostname or ""
    return host in LOOPBACK or host.endswith(".localhost")


def problem(exc: BaseException, aws: AwsOptions) -> AccessProblem:
    """The sentence and the fix for an error met while talking to AWS."""
    flag = _profile_flag(aws)
    if isinstance(exc, ProfileNotFound):
        return AccessProblem(
            f"The AWS profile {_profile(aws)!r} is not in ~/.aws/config.",
            f"aws configure sso --profile {_profile(aws)}  (or pick another with --profile NAME)",
        )
    if isinstance(exc, NoRegionError):
        return AccessProblem(
            "No AWS region is set.", f"lambdest-tui --region eu-west-1  (or: aws configure set region eu-west-1{flag})"
        )
    if isinstance(exc, SSOTokenLoadError | UnauthorizedSSOTokenError | TokenRetrievalError | SSOError):
        return AccessProblem(f"The AWS SSO session of profile {_profile(aws)!r} has expired.", f"aws sso login{flag}")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessProblem(
            "No AWS credentials were found.", f"aws sso login{flag}  (or aws configure{flag}, or --profile NAME)"
        )
    if isinstance(exc, EndpointConnectionError):
        endpoint = exc.kwargs.get("endpoint_url", "")
        return AccessProblem(f"The AWS endpoint {endpoint} does not answer.", "check --endpoint-url and the network")
    if isinstance(exc, ClientError):
        error: Any = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in EXPIRED_CODES:
            return AccessProblem(f"The AWS credentials have expired ({code}).", f"aws sso login{flag}")
        return AccessProblem(
            f"AWS refused the credentials ({code}: {error.get('Message', '')}).",
            f"aws sso login{flag}  (or aws configure{flag})",
        )
    return AccessProblem(f"AWS could not be reached: {exc}", f"aws sts get-caller-identity{flag}  (to see why)")


async def caller_identity(aws: AwsOptions) -> Identity:
    """Who `aws` acts as (STS GetCallerIdentity, two attempts, short timeouts), with the region
    used. Raises AccessProblem (see `problem`) when AWS cannot be asked or refuses."""
    from aiobotocore.config import AioConfig

    try:
        session = aws.session()
        found = aws.region or session.get_config_variable("region")  # an unknown profile raises here
        if not found:
            raise NoRegionError()
        region = str(found)
        config = AioConfig(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=10)
        kwargs = aws.client_kwargs()
        kwargs["region_name"] = region
        async with session.create_client("sts", config=config, **kwargs) as sts:
            answer = await sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise problem(exc, aws) from exc
    return Identity(str(answer.get("Account", "")), str(answer.get("Arn", "")), region)
