"""The Lineage of the X-Ray trace header as the sandbox reads and writes it (records/sandbox/recursion.py)."""

from __future__ import annotations

import re

from records.sandbox.recursion import (
    MAX_ENTRIES,
    advanced,
    count,
    format_lineage,
    function_hash,
    parse_header,
    trace_header,
)

A = "arn:aws:lambda:us-east-1:123456789012:function:a"
B = "arn:aws:lambda:us-east-1:123456789012:function:b"


def test_a_chain_counts_each_function_and_round_trips_through_the_header() -> None:
    chain = advanced(advanced(advanced((), A), B), A)
    assert count(chain, A) == 2 and count(chain, B) == 1 and count(chain, "arn:other") == 0
    assert format_lineage(chain) == f"{function_hash(A)}:2|{function_hash(B)}:1"
    header = trace_header(chain)
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=\S+", header)
    assert parse_header(header) == chain
    assert parse_header(header.replace("|", "%7C")) == chain  # as botocore's quote() sends it


def test_headers_without_a_readable_lineage_start_a_new_chain() -> None:
    assert parse_header(None) == ()
    assert parse_header("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1") == ()
    assert parse_header("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=32767:e65a2c4d:255") == ()  # the V2 form
    assert parse_header("Lineage=a87bd80c:1|nothex!!:2") == ()
    assert trace_header(()).endswith("Sampled=0")


def test_a_chain_keeps_its_latest_sixteen_functions() -> None:
    chain: tuple[tuple[str, int], ...] = ()
    arns = [f"arn:aws:lambda:us-east-1:123456789012:function:f{n}" for n in range(MAX_ENTRIES + 1)]
    for arn in arns:
        chain = advanced(chain, arn)
    assert len(chain) == MAX_ENTRIES
    assert count(chain, arns[0]) == 0 and count(chain, arns[-1]) == 1
