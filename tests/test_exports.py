import emulator


def test_all_names_resolve() -> None:
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None


def test_all_is_sorted_and_unique() -> None:
    assert emulator.__all__ == sorted(set(emulator.__all__))
