"""pyarrow's CSV reader (clean files) reads every file as the careful pandas path does."""

from __future__ import annotations

import pandas as pd
import pytest

from territorial.indicators import csv_reader
from territorial.indicators.table_base import TableError
from territorial.indicators.tables import read_table

CASES = [
    b"code;pop\n01001; 12 \n01002;\n",
    b"code;v;w\n01001;NA;null\n01002;nan;#N/A\n01003;None;-\n",  # never read as missing
    "code;v\n01001;été\n".encode(),
    b"\xef\xbb\xbfcode;v\n01001;1\n",
    "code;v\n01001;café\n".encode("cp1252"),
    b"Titre\n\ncode;v\n01001;1\n01002;2\n",
    b"code;v;\n01001;1;\n01002;2;\n",
    b"code\n01001\n\n01002\n",
    b"code;v\n01001;1\n\n01002;2\n",  # a blank line
    b"code;v\n  \n01001;1\n",
    b"code,v\n01001,1\n01002,2\n",
    b"code\tv\n01001\t1\n",
    b"code|v\n01001|1\n",
    b"code;v\n01001;1;2\n",  # wider line: named in the message
    b"code;v;w\n01001;1\n",  # narrower line: padded
    b"code;code;\n01001;1;x\n",
    b"code;v\n01001;1 \xc2\xa0\n",
    b"code;v\n01001;a\\;b\n",
    b"code;v\n01001;'x'\n",
    b"code;v\r\n01001;1\r\n01002;2\r\n",
    b"code;v\n01001;\x0b1\n",
    b'code;v\n="01001";1\n',  # quotes: the careful path
    b"code;v\n" + b"01001;1,5\n" * 3000 + b"01002;s\n",
]


def _read(data: bytes):
    try:
        raw = read_table(data, "t.csv")
    except TableError as error:
        return error.message
    return raw.frame, (raw.notes, raw.header_row, raw.separator, raw.encoding)


@pytest.mark.parametrize("data", CASES)
def test_fast_csv_reader_gives_what_the_careful_one_gives(monkeypatch, data):
    fast = _read(data)
    monkeypatch.setattr(csv_reader, "_parse_csv_arrow", lambda *args: None)
    careful = _read(data)
    if isinstance(careful, str) or isinstance(fast, str):
        assert fast == careful
        return
    pd.testing.assert_frame_equal(fast[0], careful[0])
    assert fast[1] == careful[1]


def test_fast_csv_reader_takes_clean_files_only():
    assert csv_reader._parse_csv_arrow("code;v\n01001;1\n01002;2", ";") is not None
    assert csv_reader._parse_csv_arrow('code;v\n"01001";1', ";") is None
    assert csv_reader._parse_csv_arrow("code;v\n01001;1;2", ";") is None
    header, body = csv_reader._parse_csv_arrow("code;v\n\n01001;1", ";")
    assert body.to_numpy().tolist() == [["", ""], ["01001", "1"]]  # a blank line is a row
