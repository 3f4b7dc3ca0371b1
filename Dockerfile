# The emulator's image (docker compose up). Functions run inside it in the process sandbox
# for now; the docker sandbox (one container per environment) comes with its own issue.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY loadtests ./loadtests
RUN pip install --no-cache-dir . \
 && python -c "from pathlib import Path; from emulator.sandbox.runtimes import RuntimeResolver as R; r = R(Path.home() / '.cache/lambda-emu', print); r.runtime_dir('3.11', r.interpreter('3.11'))"
EXPOSE 9000
ENTRYPOINT ["lambda-emu", "serve", "--host", "0.0.0.0", "--port", "9000", "--manifest", "/functions/lambda-emu.toml"]
