# The emulator's image (docker compose up). Built without pulling or downloading anything:
# its base is the local runtime image `lambda-emu images build` makes (a Debian root
# filesystem with Python 3.11, awslambdaric and pip), and the dependencies are installed from
# the wheels scripts/setup-docker downloads into docker/wheels (--no-index).
#   scripts/setup-docker && docker build -t lambda-emu/emulator:dev .
FROM lambda-emu/python:3.11
RUN --mount=type=bind,source=docker/wheels,target=/wheels \
    python3 -m pip install --no-index --find-links /wheels --no-cache-dir --no-compile \
      --disable-pip-version-check --break-system-packages --root-user-action=ignore \
      --prefix /usr/local /wheels/*.whl
WORKDIR /app
COPY emulator ./emulator
COPY loadtests ./loadtests
COPY pyproject.toml ./
# (pip from PyPI installs under the prefix's site-packages, which Debian's python3 does not list)
ENV PYTHONPATH=/app:/usr/local/lib/python3.11/site-packages PYTHONUNBUFFERED=1
RUN printf '#!/bin/sh\nexec python3 -m emulator.cli "$@"\n' >/usr/local/bin/lambda-emu \
 && chmod +x /usr/local/bin/lambda-emu && lambda-emu --help >/dev/null
EXPOSE 9000
ENTRYPOINT ["lambda-emu"]
CMD ["serve", "--host", "0.0.0.0", "--port", "9000", "--sandbox", "docker", "--manifest", "/functions/lambda-emu.toml"]
