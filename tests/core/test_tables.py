import csv
import io
from datetime import date

from openpyxl import load_workbook

from licentia.core.tables import table_bytes, table_response


def test_a_csv_table_opens_in_excel_as_utf8_and_keeps_every_row():
    data = table_bytes(
        headers=["Клиент", "Окончание"],
        rows=[["Ромашка", date(2025, 3, 15)], ["Лютик", None]],
        file_format="csv",
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Клиент", "Окончание"], ["Ромашка", "15.03.2025"], ["Лютик", ""]]


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    data = table_bytes(headers=["name"], rows=[["=HYPERLINK(1)"], ["-1"]], file_format="csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1:] == [["'=HYPERLINK(1)"], ["'-1"]]


def test_an_xlsx_table_keeps_numbers_as_numbers_and_dates_as_dates():
    response = table_response(
        filename="report",
        headers=["Ключ", "Мест", "До"],
        rows=[["DEMO-1", 5, date(2025, 3, 15)]],
        file_format="xlsx",
    )
    assert response["Content-Disposition"] == 'attachment; filename="report.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("Ключ", "Мест", "До")
    assert values[1][:2] == ("DEMO-1", 5)
    assert values[1][2].date() == date(2025, 3, 15)
