"""Locust users and load shapes that speak only public APIs: Lambda's Invoke API, and API
Gateway routes or function URLs (docs/load-testing.md).

Locust-free (import them anywhere):
    stats      LambdaStats: cold/warm, Init Duration, Max Memory Used, throttles; mergeable
    invoke     the Invoke request (Tail, SigV4) and `classify` of its answer
    payloads   fixed, file and weighted payloads
    schedules  steady, step, spike, diurnal and replay schedules
    summary    the Lambda summary (JSON, rows, text) with cost from `emulator.cost`
    watch      concurrent environments over time from the emulator's control API
    run        `lambda-emu load`: emulator and Locust as child processes
    streaming  streamed calls (InvokeWithResponseStream, function URLs): TTFB and TTLB
    http       an HTTP request's route key, path parameters and headers (`--http`)
    routes     per-route stats, cold/warm joined from the emulator's trace

Import Locust (and gevent's monkey-patching; only in a locustfile):
    user       LambdaUser and its HTTP transports
    stream_user  StreamingLambdaUser: streamed calls, time to first and last byte
    api_user   ApiUser: requests to an API's routes, named by route key
    shapes     LambdaLoadShape
    plugin     the --lambda-* options, stats wiring, web UI tab, headless summary
    locustfile the locustfile of `lambda-emu load` and docker-compose
    locustfile_http  the locustfile of `lambda-emu load --http`
    locustfile_stream  the locustfile of `lambda-emu load --stream`
"""
