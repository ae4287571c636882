"""Documents (文书): templates as data, gapless numbering (文号), DOCX and PDF
with an embedded Chinese font (seed 记录-2, 记录-3, 公示-10, 公示-11)."""
