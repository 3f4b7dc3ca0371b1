"""The HTTP front door: API Gateway HTTP and REST APIs, Lambda authorizers and function URLs
in front of the function registry (docs/frontdoor-spec.md).

    model.py       what the manifest declares (HttpConfig: apis, routes, urls)
    events.py      the events API Gateway and function URLs build (payload 1.0, 2.0)
    responses.py   function results and failures → HTTP answers, per service
    authorizers.py Lambda authorizers: their events, their answers, the result cache
    matching.py    route precedence; cors.py CORS; sigv4.py SigV4 for AWS_IAM URLs
    server.py      the listeners: routing, invoking, answering (exchange.py: one request and
                   its trace record; listing.py: what is served, for serve and health)
"""
