"""Allocates {"mb": N} megabytes and touches every page: past the memory size, Lambda (and
the emulator) kill the runtime and report Runtime.ExitError."""


def handler(event, context):
    mb = int(event.get("mb", 300)) if isinstance(event, dict) else 300
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return {"allocated_mb": mb}
