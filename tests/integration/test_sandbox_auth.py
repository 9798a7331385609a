"""The sandbox endpoint answers only what an AWS SDK sends to a loopback name: a web page (unsigned,
or through a DNS-rebound name) gets AWS's 403 (issue 10, item 13). Real HTTP to a real sandbox."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
import pytest

from records.sandbox import Sandbox
from records.sandbox.lambda_api import _loopback_host
from tests.integration.sandbox_helpers import REGION

SIGNED = "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"
SQS_SIGNED = SIGNED.replace("/lambda/", "/sqs/")


def send(
    sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request with exactly these headers (Host included)."""
    address = urllib.parse.urlsplit(sandbox.endpoint_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def port(sandbox: Sandbox) -> int:
    return urllib.parse.urlsplit(sandbox.endpoint_url).port or 80


def test_an_unsigned_request_is_refused_as_aws_refuses_it(sandbox: Sandbox) -> None:
    host = f"127.0.0.1:{port(sandbox)}"
    status, headers, body = send(sandbox, "GET", "/2015-03-31/functions/", {"Host": host})
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(body)["message"].startswith("Missing Authentication Token")
    # what a web page could post at the endpoint: an invoke, and a proxied SQS call
    status, _, _ = send(
        sandbox, "POST", "/2015-03-31/functions/order/invocations", {"Host": host}, b'{"orderId": "evil"}'
    )
    assert status == 403
    form = {"Host": host, "Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = send(sandbox, "POST", "/", form, b"Action=ListQueues")
    assert status == 403
    # a CORS preflight gets nothing either
    status, _, _ = send(sandbox, "OPTIONS", "/2015-03-31/functions/", {"Host": host, "Origin": "https://evil.example"})
    assert status == 403


@pytest.mark.parametrize("name", ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.7"])
def test_a_signed_request_to_another_name_is_refused(sandbox: Sandbox, name: str) -> None:
    status, headers, body = send(
        sandbox, "GET", "/2015-03-31/functions/", {"Host": f"{name}:{port(sandbox)}", "Authorization": SIGNED}
    )
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert f"addressed to {name}:{port(sandbox)}" in json.loads(body)["message"]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_a_signed_request_to_a_loopback_name_is_answered(sandbox: Sandbox, name: str) -> None:
    host = f"{name}:{port(sandbox)}"
    status, _, body = send(sandbox, "GET", "/2015-03-31/functions/", {"Host": host, "Authorization": SIGNED})
    assert status == 200, body
    assert json.loads(body)["Functions"][0]["FunctionName"] == "order"
    status, _, body = send(sandbox, "GET", "/2015-03-31/functions/", {"Host": name, "Authorization": SIGNED})
    assert status == 200, body  # no port
    form = {"Host": host, "Authorization": SQS_SIGNED, "Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = send(sandbox, "POST", "/", form, b"Action=ListQueues&Version=2012-11-05")
    assert status == 200 and b"order-failures" in body


def test_sdks_through_localhost_still_work(sandbox: Sandbox) -> None:
    endpoint = f"http://localhost:{port(sandbox)}"
    client = boto3.client("lambda", endpoint_url=endpoint, region_name=REGION)
    assert client.get_function(FunctionName="order")["Configuration"]["FunctionName"] == "order"
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    assert any(url.endswith("/order-failures") for url in sqs.list_queues()["QueueUrls"])


def test_a_url_signed_in_its_query_is_refused(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    """A web page can make a browser GET any URL: a signature in the query string is not enough."""
    aws["s3"].create_bucket(Bucket="auth-presigned")
    aws["s3"].put_object(Bucket="auth-presigned", Key="k", Body=b"hello")
    url = aws["s3"].generate_presigned_url("get_object", Params={"Bucket": "auth-presigned", "Key": "k"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 403
    v4 = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20261201%2Fus-east-1%2Fsqs%2Faws4_request"
    queue = f"{sandbox.endpoint_url}/123456789012/order-failures"
    status, _, _ = send(
        sandbox,
        "GET",
        f"/?Action=PurgeQueue&QueueUrl={urllib.parse.quote(queue)}&{v4}",
        {"Host": f"localhost:{port(sandbox)}"},
    )
    assert status == 403


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:4566", True),
        ("localhost:1", True),
        ("s3.localhost:80", True),
        ("[::1]:8080", True),
        ("[::1]", True),
        (None, False),
        ("", False),
        ("127.0.0.1:abc", False),
        ("[::1]x", False),
        ("[::1", False),
        ("evil.example", False),
        ("localhost.evil.example:80", False),
        ("0.0.0.0:80", False),
    ],
)
def test_loopback_names(host: str | None, loopback: bool) -> None:
    assert _loopback_host(host) is loopback
