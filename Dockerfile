# The emulator's image (docker compose up). Built without pulling anything: its base is the
# local runtime image `lambda-emu images build` makes (scripts/setup-docker), a Debian root
# filesystem with Python 3.11, awslambdaric and pip. The project's dependencies come from
# PyPI at build time (compose builds with the host's network).
#   docker build --network host -t lambda-emu/emulator .
FROM lambda-emu/python:3.11
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY loadtests ./loadtests
RUN python3 -m pip install --no-cache-dir --no-compile --disable-pip-version-check \
      --break-system-packages --root-user-action=ignore --prefix /usr/local . \
 && lambda-emu --help >/dev/null
ENV PYTHONUNBUFFERED=1
EXPOSE 9000
ENTRYPOINT ["lambda-emu"]
CMD ["serve", "--host", "0.0.0.0", "--port", "9000", "--sandbox", "docker", "--manifest", "/functions/lambda-emu.toml"]
