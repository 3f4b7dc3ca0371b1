"""The HTTP front door: API Gateway HTTP and REST APIs, Lambda authorizers and function URLs
in front of the function registry (docs/frontdoor-spec.md).

    model.py       what the manifest declares (HttpConfig: apis, routes, urls)
    events.py      the events API Gateway and function URLs build (payload 1.0, 2.0)
    responses.py   function results and failures → HTTP answers, per service
    authorizers.py Lambda authorizers: their events, their answers, the result cache
    server.py      the listeners: matching, CORS, SigV4, invoking, trace records
"""
