"""The chart process: reads charts as JSON frames on stdin, answers each with its PNG on stdout.

A frame is a 4-byte big-endian length and that many bytes; an answer starts with one status
byte (0: the PNG follows, 1: an error message follows). Run as `python -m bot.chart_worker`
by bot/chart_process.py; it imports nothing of the bot but the chart drawing."""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any, BinaryIO

from services.charts import Chart, draw_chart

HEADER = struct.Struct(">I")
DRAWN, FAILED = 0, 1
NICENESS = 10


def encode_chart(chart: Chart) -> bytes:
    """A chart as one request frame."""
    body = json.dumps(
        {
            "title": chart.title,
            "panels": chart.panels,
            "note": chart.note,
            "shares": chart.shares,
        }
    ).encode()
    return HEADER.pack(len(body)) + body


def decode_chart(body: bytes) -> Chart:
    fields: dict[str, Any] = json.loads(body)
    panels = tuple(
        (str(subtitle), tuple((str(label), int(count)) for label, count in rows))
        for subtitle, rows in fields["panels"]
    )
    return Chart(str(fields["title"]), panels, str(fields["note"]), bool(fields["shares"]))


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Draw every chart asked for until the input ends."""
    while header := requests.read(HEADER.size):
        if len(header) < HEADER.size:
            return
        (length,) = HEADER.unpack(header)
        body = requests.read(length)
        try:
            status, payload = DRAWN, draw_chart(decode_chart(body))
        except Exception as exc:  # one bad chart must not end the process
            status, payload = FAILED, f"{type(exc).__name__}: {exc}".encode()
        answers.write(bytes([status]) + HEADER.pack(len(payload)) + payload)
        answers.flush()


if __name__ == "__main__":
    # Behind the bot for the CPU: on a machine of two cores a chart must not delay replies.
    os.nice(NICENESS)
    serve(sys.stdin.buffer, sys.stdout.buffer)
