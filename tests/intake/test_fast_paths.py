"""The shortcuts taken for large, well-ordered inputs give exactly what the general path gives.

At national scale the grade path skips work when it can: tables already in code order skip the
hash joins and the sort, numeric columns go from Arrow straight into the matrix, indicator
columns are scored on every core, and the graded CSV is rendered in slices. Each shortcut is
checked here against the path it replaces.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import RULES, SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.grading.graded import grade_inputs, graded_table
from assessment.insight.rollup import CodeIndex
from assessment.intake import parallel, readers, textcols
from assessment.intake.divisions import is_division_code
from assessment.intake.inputs import load_inputs
from assessment.intake.matrices import empty_matrix
from assessment.intake.numbers import to_numbers
from assessment.intake.readers import read_table
from assessment.intake.registry import ingest_registry, registry_text_headers
from assessment.intake.textcols import (
    digit_numbers,
    fixed_width,
    has_duplicates,
    is_sorted,
    positions,
)
from assessment.outputs import exports
from assessment.outputs.exports import write_csv

SAMPLE_RULES = [RULES / "community.yaml", RULES / "village.yaml"]
MONTHS = sorted(SAMPLE.glob("indicators_2026-0[7-9].csv"))


def sample_assessments():
    inputs = load_inputs(SAMPLE_RULES, SAMPLE / "units.csv", MONTHS)
    assert not inputs.errors, inputs.errors[:3]
    return grade_inputs(inputs)


def test_reading_and_scoring_on_threads_give_the_one_core_result_bit_for_bit(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 10**9)
    serial = sample_assessments()
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 0)
    threaded = sample_assessments()
    fields = ["raw", "scores", "dim_scores", "total", "rank", "veto_hits", "floor_hits"]
    for one, other in zip(serial, threaded, strict=True):
        for period, p in one.periods.items():
            q = other.periods[period]
            for name in fields:
                np.testing.assert_array_equal(getattr(p, name), getattr(q, name), err_msg=name)


def test_a_worker_error_is_raised_not_swallowed():
    def work(j: int) -> None:
        if j == 3:
            raise RuntimeError("column 3")

    with pytest.raises(RuntimeError, match="column 3"):
        parallel.for_each(8, work, rows=0)


def test_csv_rendered_in_slices_is_byte_identical(monkeypatch, tmp_path):
    table = graded_table(sample_assessments())
    monkeypatch.setattr(exports, "CSV_SLICE_ROWS", 10**9)
    write_csv(table, tmp_path / "whole.csv")
    monkeypatch.setattr(exports, "CSV_SLICE_ROWS", 7)
    write_csv(table, tmp_path / "sliced.csv")
    whole = (tmp_path / "whole.csv").read_bytes()
    assert (tmp_path / "sliced.csv").read_bytes() == whole
    assert whole.count(b'"unit_code"') == 1  # one header
    write_csv(table.iloc[:0], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_bytes() == whole.split(b"\n", 1)[0] + b"\n"


def test_arrow_number_columns_are_copied_chunk_by_chunk_into_the_matrix():
    columns = [
        pa.chunked_array([[1, None], [3]], type=pa.int64()),
        pa.chunked_array([[0.5], [None, 2.25]]),
        pa.chunked_array([[True, None, False]]),
        pa.chunked_array([[None, None, None]], type=pa.null()),
    ]
    matrix = np.full((3, len(columns)), -1.0, order="F")
    for j, column in enumerate(columns):
        yes_no = pa.types.is_boolean(column.type)  # TRUE/FALSE only where yes/no is meant
        numbers, bad = to_numbers(column, out=matrix[:, j], yes_no=yes_no)
        assert np.shares_memory(numbers, matrix)  # written in place, no column-sized copy
        assert not bad.any()
    expected = [[1, 0.5, 1, np.nan], [np.nan, np.nan, np.nan, np.nan], [3, 2.25, 0, np.nan]]
    np.testing.assert_array_equal(matrix, expected)


def test_a_month_parsed_in_many_blocks_ingests_as_in_one(monkeypatch):
    """Arrow parses in blocks (``BLOCK_BYTES``), a chunk of every column each: every check and
    value must come out the same however the file was cut."""
    month = SAMPLE / "indicators_2026-09.csv"
    monkeypatch.setattr(readers, "BLOCK_BYTES", 1 << 30)
    whole = load_inputs(SAMPLE_RULES, SAMPLE / "units.csv", [month])
    monkeypatch.setattr(readers, "BLOCK_BYTES", 4096)
    assert read_table(month).table.column(0).num_chunks > 5
    cut = load_inputs(SAMPLE_RULES, SAMPLE / "units.csv", [month])
    assert cut.problems == whole.problems
    assert cut.data.equals(whole.data)
    assert cut.registry.equals(whole.registry)


def test_the_months_matrices_come_from_arrows_pool_and_stay_alive():
    """The matrix's memory is an Arrow buffer's, which lives exactly as long as the array.
    (Looked at through the buffer itself: the pool's running total also moves with whatever
    else the process frees meanwhile.)"""
    matrix = empty_matrix(1000, 3)
    buffer = matrix.base
    while not isinstance(buffer, pa.Buffer):
        buffer = buffer.base
    assert buffer.address == matrix.ctypes.data and buffer.size == 1000 * 3 * 8
    assert matrix.shape == (1000, 3) and matrix.dtype == np.float64
    assert matrix.flags.f_contiguous and matrix.flags.writeable
    alive = weakref.ref(buffer)
    del buffer
    matrix[:, 1] = 2.5
    gc.collect()  # the array alone keeps its buffer
    assert alive() is not None and matrix[:, 1].sum() == 2500.0
    del matrix
    gc.collect()
    assert alive() is None


def test_text_number_columns_still_go_through_the_lenient_reader():
    numbers, bad = to_numbers(pa.chunked_array([["85%", "是"], ["abc", None]]), yes_no=True)
    np.testing.assert_array_equal(numbers, [85, 1, np.nan, np.nan])
    assert bad.tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("values", "ordered", "duplicated"),
    [
        (["001", "002", "010"], True, False),
        (["001", "001", "002"], True, True),  # sorted, not strictly: the hash check decides
        (["002", "001", "003"], False, False),
        (["002", "001", "002"], False, True),
        (["001", None, "002"], False, False),
        ([None, None], False, True),
        (["001"], True, False),
        ([], True, False),
    ],
)
def test_order_check_and_duplicates(values, ordered, duplicated):
    arr = pa.array(values, type=pa.large_string())
    assert is_sorted(arr) is ordered
    assert has_duplicates(arr) is duplicated


def test_an_unknown_parent_is_found_even_beside_a_duplicated_code():
    text = (
        "unit_code,unit_name,unit_type,parent_code\n"
        "100,区,区县,\n"
        "110,街道甲,街道,100\n"
        "110,街道甲,街道,100\n"
        "111,社区,社区,999\n"
    )
    problems = ingest_registry(read_table(text.encode(), name="units.csv")).problems
    assert sorted((p.code, p.row) for p in problems) == [
        ("duplicate_unit", 4),
        ("unknown_parent", 5),
    ]


def test_a_header_longer_than_the_sniffed_bytes_is_read_whole(monkeypatch, tmp_path):
    monkeypatch.setattr(readers, "HEAD_BYTES", 8)
    path = tmp_path / "units.csv"
    path.write_bytes(
        "\ufeff单位代码,单位名称,单位类型,上级代码\n100,区,区县,\n110,社区,社区,100\n".encode()
    )
    raw = read_table(path, text_columns=registry_text_headers())
    assert raw.encoding == "utf-8-sig"
    assert raw.table.column_names == ["单位代码", "单位名称", "单位类型", "上级代码"]
    registry = ingest_registry(raw)
    assert registry.ok
    assert registry.frame["unit_code"].tolist() == ["100", "110"]


def test_a_blank_file_longer_than_the_sniffed_bytes_is_empty(monkeypatch, tmp_path):
    monkeypatch.setattr(readers, "HEAD_BYTES", 4)
    path = tmp_path / "blank.csv"
    path.write_bytes(b" \n\n  \r\n\n")
    assert [p.code for p in read_table(path).problems] == ["empty_file"]
    path.write_bytes(b"    unit_code\n1\n")
    assert read_table(path).table is not None


def test_a_gb18030_file_on_disk_is_read_like_the_same_bytes_uploaded():
    path = SAMPLE / "indicators_2026-03_gb18030.csv"
    from_disk, uploaded = read_table(path), read_table(path.read_bytes(), name=path.name)
    assert from_disk.encoding == uploaded.encoding == "gb18030"
    assert from_disk.table.equals(uploaded.table)


def test_the_command_sets_the_allocator_before_arrow_loads():
    """mimalloc reads its options once, when pyarrow loads: the console module must not load
    it, and an explicit setting by whoever runs the command wins."""
    probe = (
        "import os, sys\n"
        "import assessment.cli.console as console\n"
        "assert 'pyarrow' not in sys.modules, 'pyarrow loaded before the setting'\n"
        "console.keep_freed_memory()\n"
        "print(os.environ['MIMALLOC_PURGE_DELAY'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_PURGE_DELAY"}
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "-1"
    env["MIMALLOC_PURGE_DELAY"] = "10"
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "10"


codes = st.text(alphabet="0129", min_size=2, max_size=3) | st.text(
    alphabet="09a", min_size=2, max_size=3
)


@settings(max_examples=200, deadline=None)
@given(
    universe=st.lists(codes, unique=True, max_size=30),
    values=st.lists(codes, max_size=30),
    sort=st.booleans(),
    cut=st.integers(0, 3),
)
def test_code_lookup_agrees_with_the_hash_join(universe, values, sort, cut):
    """The binary search over fixed-width codes (sorted registry) and Arrow's hash join give
    the same positions: on slices, mixed widths and unsorted registries too."""
    universe = sorted(universe) if sort else universe
    u = pa.array(universe, type=pa.large_string()).slice(min(cut, len(universe)))
    v = pa.array(values, type=pa.large_string()).slice(min(cut, len(values)))
    expected = pc.fill_null(pc.index_in(v, value_set=u), -1).to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(positions(v, u), expected)


@settings(max_examples=200, deadline=None)
@given(
    universe=st.lists(st.text(alphabet="0129", min_size=3, max_size=3), unique=True, max_size=30),
    values=st.lists(codes | st.just("") | st.none(), max_size=30),
    sort=st.booleans(),
)
def test_the_code_index_agrees_with_the_hash_join(universe, values, sort):
    """Digit codes are searched as numbers, and a code with another byte among the wanted
    ones sends the whole search back to the bytes; codes of another length (a root's empty
    parent) and nulls are found nowhere: the same rows as the hash join either way."""
    index = CodeIndex(sorted(universe) if sort else universe)
    v = pa.array(values, type=pa.large_string())
    expected = pc.fill_null(pc.index_in(v, value_set=index.codes), -1).to_numpy(
        zero_copy_only=False
    )
    np.testing.assert_array_equal(index.positions(v), expected)
    assert [index.get(c) for c in values if c is not None] == [
        p for c, p in zip(values, expected.tolist(), strict=True) if c is not None
    ]


def test_digit_codes_are_the_numbers_they_spell():
    codes = np.array([b"500100000000", b"500101001002", b"999999999999"])
    assert digit_numbers(codes).tolist() == [500100000000, 500101001002, 999999999999]
    assert digit_numbers(np.array([b"50010a", b"500101"])) is None
    assert digit_numbers(np.array([b"50010/", b"500101"])) is None  # the byte below "0"
    assert digit_numbers(np.array([b"1" * 19])) is None  # past int64


def test_codes_of_one_width_are_viewed_in_place():
    arr = pa.array(["500100", "500101", "500102"], type=pa.large_string()).slice(1)
    view = fixed_width(arr)
    assert view.tolist() == [b"500101", b"500102"]
    assert fixed_width(pa.array(["1", "22"], type=pa.large_string())) is None
    assert fixed_width(pa.array(["1", None], type=pa.large_string())) is None
    assert fixed_width(pa.array(["a\x00", "bb"], type=pa.large_string())) is None


def test_a_file_on_disk_with_an_ascii_header_and_a_gbk_body_falls_back_to_gb18030(tmp_path):
    """Arrow parses the path first (the header is valid UTF-8); the first invalid byte in the
    body sends the whole file to the GB18030 decoder, as for uploaded bytes."""
    path = tmp_path / "units.csv"
    path.write_bytes("unit_code,unit_name,unit_type,parent_code\n100,龙溪区,区县,\n".encode("gbk"))
    raw = read_table(path, text_columns=registry_text_headers())
    assert raw.encoding == "gb18030"
    assert ingest_registry(raw).frame["unit_name"].tolist() == ["龙溪区"]


# Characters each byte-level shortcut must tell apart: controls (C0, DEL, C1), the whitespace
# the trims differ on (0x1c-0x1f), Unicode spaces, what NFKC folds, Chinese, digits.
TRICKY = (
    "09aZ \t\n\r\x00\x1b\x1c\x1f\x7f\x80\x85\x9f\xa0\xa1\u3000\u3001\u2003\u2150\uff08１Ａ村社区"
)
tricky_text = st.text(alphabet=TRICKY, max_size=6)


def _clean_by_regex(values: pa.Array) -> list:
    """``_clean`` as it was before the byte checks: the rule written out."""
    arr = pc.cast(values, pa.large_string())
    non_ascii = pc.all(pc.string_is_ascii(arr)).as_py() is False
    if non_ascii and pc.any(pc.match_substring_regex(arr, textcols.COMPAT)).as_py():
        arr = pc.utf8_normalize(arr, form="NFKC")
    return pc.fill_null(pc.utf8_trim_whitespace(arr), "").to_pylist()


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), tricky_text), max_size=12), cut=st.integers(0, 2))
def test_cleaning_and_control_checks_by_bytes_agree_with_the_rules(values, cut):
    """Text is cleaned, and controls found, by looking at Arrow's bytes first; the result is
    the regular expressions' and Arrow's trims', on slices and nulls too."""
    arr = pa.array(values, type=pa.large_string()).slice(min(cut, len(values)))
    assert textcols._clean(arr).to_pylist() == _clean_by_regex(arr)
    controls = pc.fill_null(pc.match_substring_regex(arr, textcols.CONTROLS), False)
    assert textcols.control_characters(arr).tolist() == controls.to_pylist()


@settings(max_examples=300, deadline=None)
@given(
    codes=st.lists(st.text(alphabet="0159/:a\u0660", min_size=11, max_size=13), max_size=8),
    width=st.sampled_from([None, 11, 12]),
)
def test_division_codes_read_as_bytes_agree_with_the_pattern(codes, width):
    """Codes of one width are checked digit by digit in place; the answer is the pattern's."""
    if width is not None:
        codes = [c.ljust(width, "0")[:width] for c in codes]
    arr = pa.array(codes, type=pa.large_string())
    pattern = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9]{12}$"), False)
    assert is_division_code(arr).tolist() == pattern.to_pylist()


def test_text_joined_from_pieces_is_made_whole_once_and_then_looked_up_in_place():
    a = pd.DataFrame({"unit_code": ["500101", None], "score": [1.5, 2.0], "n": [1, 2]})
    b = pd.DataFrame({"unit_code": ["500103"], "score": [3.0], "n": [3]})
    joined = pd.concat([a, b], ignore_index=True)
    assert joined["unit_code"].array._pa_array.num_chunks == 2
    before = joined.copy()
    whole = textcols.one_chunk(joined)
    pd.testing.assert_frame_equal(whole, before)  # the same values, nulls and dtypes
    stored = whole["unit_code"].array._pa_array
    assert stored.num_chunks == 1
    arr = textcols.to_arrow(whole["unit_code"])  # no copy any more
    assert arr.buffers()[2].address == stored.chunk(0).buffers()[2].address
    assert list(textcols.positions(pa.array(["500103", "x"]), arr)) == [2, -1]
