"""Reading BOM workbooks into typed, validated frames with row-level findings."""
