"""Streamed, spreadsheet-safe CSV export of submissions (no Flask).

`cells` turns stored values into CSV cells (reversible encoding, formula-injection prefix),
`query` holds the submission filters and keyset batches the JSON list shares, `csvfile`
writes one consistent snapshot batch by batch so memory stays flat at any table size.
"""
