// Drafts for issue 14 (see scenarios_draft header).
