"""Handlers: one function per command or event, dependencies passed in, one commit each, by topic —
`rounds` (推荐批次), `drafts` (the school's 推荐表 until it is handed on), `submission` (eligibility, submit,
withdraw), `reads` (a nomination as the caller may see it), `batches` (报送), `reports` (progress, coverage, 汇总表),
`projections` (other services' events); `common` holds what they share, `unit_of_work` wires the repositories."""
