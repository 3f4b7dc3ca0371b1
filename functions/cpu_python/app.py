"""CPU-bound work in pure Python, single-threaded: memory buys CPU on Lambda.

Payload: {"n": <loop iterations>} (default 12,000,000: about 1 s at full speed on the
development machine). functions/cpu_rust runs the same FNV-1a loop and returns the same hash
for the same n, so the two languages can be compared on identical work.
"""


def handler(event, context):
    n = int(event.get("n", 12_000_000)) if isinstance(event, dict) else 12_000_000
    h = 0xCBF29CE484222325
    for i in range(n):
        h ^= i & 0xFF
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return {"n": n, "hash": h}
