"""Argument groups shared by several commands (AWS options, sources, output format)."""

from __future__ import annotations

import argparse

from records.aws_options import AwsOptions

__all__ = ["add_aws_arguments", "add_format_argument", "aws_options"]


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    """--profile, --region, --endpoint-url."""
    group = parser.add_argument_group("AWS options (the standard AWS_* variables work too)")
    group.add_argument("--profile", help="named profile from ~/.aws/config")
    group.add_argument("--region", help="AWS region, e.g. eu-west-1")
    group.add_argument(
        "--endpoint-url",
        help="send every AWS call to this endpoint (a sandbox, LocalStack, moto); "
        "AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work",
    )


def aws_options(args: argparse.Namespace) -> AwsOptions:
    """The AWS options of a parsed command line."""
    return AwsOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )


def add_format_argument(parser: argparse.ArgumentParser, default: str = "text") -> None:
    """--format jsonl|text."""
    parser.add_argument(
        "--format",
        choices=("jsonl", "text"),
        default=default,
        help=f"jsonl: one JSON object a line (a stable contract); text: for people (default: {default})",
    )
