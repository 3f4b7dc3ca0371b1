"""Lambda's process limits (ulimits), as a function sees them with `getrlimit`.

(soft, hard), -1 = unlimited, from LocalStack's AWS-recorded snapshot test_lambda ::
TestLambdaBehavior::test_runtime_ulimits › invoke_runtime_ulimits (python3.12, rec 24-11-2025).
NPROC reads 742 there, although "Lambda quotas" lists 1,024 execution processes/threads: the
recording is what a function sees, so it wins. The limits not listed (AS, CPU, DATA, FSIZE,
RSS) are unlimited on Lambda and are left as the host has them.
"""

from __future__ import annotations

LAMBDA_RLIMITS: dict[str, tuple[int, int]] = {
    "RLIMIT_CORE": (10_737_418_240, 10_737_418_240),
    "RLIMIT_MEMLOCK": (65_536, 65_536),
    "RLIMIT_NOFILE": (1_024, 1_024),
    "RLIMIT_STACK": (8_388_608, -1),
}
# RLIMIT_NPROC counts every process of the user: set only for a user of the functions' own.
LAMBDA_NPROC = (742, 742)


def docker_ulimits(*, own_user: bool) -> list[tuple[str, int, int]]:
    """The same limits as `docker --ulimit` names them: (name, soft, hard)."""
    limits = dict(LAMBDA_RLIMITS)
    if own_user:
        limits["RLIMIT_NPROC"] = LAMBDA_NPROC
    return [
        (name.removeprefix("RLIMIT_").lower(), soft, hard) for name, (soft, hard) in limits.items()
    ]
