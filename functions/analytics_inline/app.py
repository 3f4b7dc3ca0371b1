"""Analytics sent inline: the caller waits for the analytics service (ANALYTICS_FLUSH_MS)."""

import json
import os
import time

FLUSH_S = float(os.environ.get("ANALYTICS_FLUSH_MS", "100")) / 1000


def handler(event, context):
    result = {"greeting": f"hello {event.get('name', 'world')}"}
    events = [{"event": "greeted", "request_id": context.aws_request_id}]
    time.sleep(FLUSH_S)  # POST to the analytics service, awaited before returning
    sink = os.environ.get("ANALYTICS_SINK")
    if sink:
        with open(sink, "a") as fh:
            fh.write(json.dumps(events) + "\n")
    return result
