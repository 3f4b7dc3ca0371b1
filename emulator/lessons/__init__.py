"""Lambda's performance lessons, reproduced by the sample functions in `functions/` (issue 8).

- `downstream`: the local HTTP service the samples call (APIs and databases with a delay).
- `measure`: runs each pair of samples on the emulator and compares them (`lambda-emu lessons`).
"""
