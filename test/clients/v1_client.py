"""An integrator's client of Quorum's /v1, written from the OpenAPI document alone.

It reads /v1/openapi.json, finds the events operations in it by operationId, pages the
organization's events with an API key, then follows the event stream, disconnects, and
resumes with Last-Event-ID. Each step is printed as one JSON line on stdout; between the
disconnect and the resume it waits for a line on stdin carrying how many events the
organization then has, and resumes until it has seen that many.

Usage: v1_client.py <base url> <api key> <org id>. Needs httpx.
"""

import json
import sys

import httpx


def emit(step: dict) -> None:
    print(json.dumps(step), flush=True)


def sse_messages(lines):
    """Server-Sent Events messages (id, event, data) from a response's lines; comments skipped."""
    message = {"id": None, "event": "message", "data": []}
    for line in lines:
        if line == "":
            if message["data"]:
                yield {"id": message["id"], "event": message["event"], "data": "\n".join(message["data"])}
            message = {"id": None, "event": "message", "data": []}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            message["id"] = value
        elif field == "event":
            message["event"] = value
        elif field == "data":
            message["data"].append(value)


def read_stream(client: httpx.Client, url: str, params: dict, headers: dict, until) -> list:
    """Events of the stream from its start until `until(events)` holds; then it disconnects."""
    events = []
    with client.stream("GET", url, params=params, headers={"accept": "text/event-stream", **headers}) as response:
        response.raise_for_status()
        if not response.headers["content-type"].startswith("text/event-stream"):
            raise RuntimeError(f"not an event stream: {response.headers['content-type']}")
        for message in sse_messages(response.iter_lines()):
            if message["event"] == "error":
                raise RuntimeError(f"the stream ended: {message['data']}")
            envelope = json.loads(message["data"])
            if message["id"] != envelope["sequence"] or message["event"] != envelope["type"]:
                raise RuntimeError(f"id/event disagree with the envelope: {message}")
            events.append(envelope)
            if until(events):
                return events
    raise RuntimeError("the stream closed early")


def main() -> None:
    base_url, api_key, org_id = sys.argv[1], sys.argv[2], sys.argv[3]
    with httpx.Client(headers={"x-api-key": api_key}, timeout=30) as client:
        document = client.get(f"{base_url}/v1/openapi.json").json()
        if not document["openapi"].startswith("3.1"):
            raise RuntimeError(f"unexpected OpenAPI version {document['openapi']}")
        server = document["servers"][0]["url"]
        operations = {
            operation["operationId"]: path
            for path, item in document["paths"].items()
            for operation in item.values()
        }
        list_url = server + operations["listEvents"].replace("{orgId}", org_id)
        stream_url = server + operations["streamEvents"].replace("{orgId}", org_id)

        paged, after, pages = [], None, 0
        while True:
            params = {"limit": 3, **({"after": after} if after else {})}
            response = client.get(list_url, params=params)
            response.raise_for_status()
            page = response.json()
            paged.extend(page["data"])
            pages += 1
            if page["next"] is None:
                break
            after = page["next"]
        emit({"step": "paged", "pages": pages, "events": paged})

        half = max(1, len(paged) // 2)
        first = read_stream(client, stream_url, {"from": "start"}, {}, lambda events: len(events) >= half)
        last_event_id = first[-1]["sequence"]
        emit({"step": "disconnected", "lastEventId": last_event_id, "events": first})

        total = int(sys.stdin.readline())
        rest = read_stream(
            client,
            stream_url,
            {},
            {"last-event-id": last_event_id},
            lambda events: len(first) + len(events) >= total,
        )
        emit({"step": "resumed", "events": rest})


if __name__ == "__main__":
    main()
