import emulator


def test_all_names_resolve() -> None:
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None


def test_all_lists_every_export_once_sorted() -> None:
    assert emulator.__all__ == sorted(set(emulator.__all__))
    assert set(emulator.__all__) == {*emulator._EXPORTS, "__version__"}
