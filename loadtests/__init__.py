"""Locust users and load shapes that speak only the public Invoke API (docs/load-testing.md).

Locust-free (import them anywhere):
    stats      LambdaStats: cold/warm, Init Duration, Max Memory Used, throttles; mergeable
    invoke     the Invoke request (Tail, SigV4) and `classify` of its answer
    payloads   fixed, file and weighted payloads
    schedules  steady, step, spike, diurnal and replay schedules
    summary    the Lambda summary (JSON, rows, text) with cost from `emulator.cost`
    watch      concurrent environments over time from the emulator's control API
    run        `lambda-emu load`: emulator and Locust as child processes
    streaming  streamed calls (InvokeWithResponseStream, function URLs): TTFB and TTLB

Import Locust (and gevent's monkey-patching; only in a locustfile):
    user       LambdaUser and its HTTP transports
    stream_user  StreamingLambdaUser: streamed calls, time to first and last byte
    shapes     LambdaLoadShape
    plugin     the --lambda-* options, stats wiring, web UI tab, headless summary
    locustfile the locustfile of `lambda-emu load` and docker-compose
    locustfile_stream  the locustfile of `lambda-emu load --stream`
"""
