"""One error hierarchy: every error is a YibaoError and the built-in it resembles; messages
name the file and say how to fix."""

from __future__ import annotations

import pytest

from yibao.errors import (
    DataFileError,
    EncodingDetectionError,
    MissingColumnError,
    SettingsError,
    StoreError,
    SynthError,
    YibaoError,
)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (SettingsError, ValueError),
        (DataFileError, ValueError),
        (EncodingDetectionError, ValueError),
        (MissingColumnError, ValueError),
        (StoreError, RuntimeError),
        (SynthError, ValueError),
    ],
)
def test_every_error_is_a_yibao_error_and_a_builtin(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, YibaoError)
    assert issubclass(error, builtin)


def test_data_file_error_names_the_file() -> None:
    err = DataFileError("cannot read it: save it again", path="/data/persons.csv")
    assert str(err) == "/data/persons.csv: cannot read it: save it again"
    assert err.path == "/data/persons.csv"
    assert str(DataFileError("no path")) == "no path"
    assert issubclass(EncodingDetectionError, DataFileError)


def test_missing_column_lists_found_and_accepted_names() -> None:
    err = MissingColumnError(
        path="export/persons.csv",
        table="persons",
        missing={"certno": ("certno", "证件号码", "身份证号"), "gend": ("gend", "性别")},
        found=["psn_no", "姓名", "备注"],
    )
    with pytest.raises(
        MissingColumnError,
        match=r"^export/persons\.csv: table 'persons' is missing required column\(s\): "
        r"certno \(accepted: certno, 证件号码, 身份证号\); gend \(accepted: gend, 性别\)\. "
        r"Columns found: psn_no, 姓名, 备注\. Rename the header to one of the accepted names",
    ):
        raise err
    assert err.table == "persons"
    assert err.found == ["psn_no", "姓名", "备注"]
    assert set(err.missing) == {"certno", "gend"}
    assert isinstance(err, DataFileError)


def test_missing_column_with_an_empty_header() -> None:
    err = MissingColumnError(path="p.csv", table="persons", missing={"psn_no": ("psn_no",)},
                             found=[])
    assert "Columns found: (none)." in str(err)


def _open_locked() -> None:
    try:
        raise OSError("locked")
    except OSError as exc:
        raise StoreError("cannot open store: close other programs") from exc


def test_errors_chain_their_cause() -> None:
    with pytest.raises(StoreError, match="close other programs") as info:
        _open_locked()
    assert isinstance(info.value.__cause__, OSError)
