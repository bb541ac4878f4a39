"""The import streams: its memory does not grow with the number of rows, and it shows a
progress bar when asked (on a terminal)."""

import tracemalloc

from langganan.sales.importing import transactions_import


def write_rows(path, rows: int) -> None:
    with open(path, "w") as handle:
        handle.write("customer_id,date,amount,produk,qty,harga\n")
        for i in range(rows):
            handle.write(f"C-{i % 40},2025{1 + i % 12:02d}{1 + i % 28:02d},0,Kopi,1,{i}\n")


def peak_bytes(merchant, path) -> int:
    tracemalloc.start()
    try:
        report = transactions_import(merchant=merchant, path=path, progress=False)
        assert report.committed and report.error_count == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_file(merchant, tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    # both files span more than one chunk of the import's writes (5,000 transactions)
    write_rows(small, 6_000)
    write_rows(large, 60_000)
    peak_small = peak_bytes(merchant, small)
    peak_large = peak_bytes(merchant, large)
    # ten times the rows; a reader that kept rows would need about ten times the memory
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)


def test_a_progress_bar_is_drawn_when_enabled(merchant, tmp_path, capsys):
    path = tmp_path / "t.csv"
    write_rows(path, 50)
    transactions_import(merchant=merchant, path=path, progress=True)
    err = capsys.readouterr().err
    assert "import" in err and "100%" in err


def test_no_progress_bar_when_not_on_a_terminal(merchant, tmp_path, capsys):
    path = tmp_path / "t.csv"
    write_rows(path, 50)
    transactions_import(merchant=merchant, path=path)
    assert capsys.readouterr().err == ""
