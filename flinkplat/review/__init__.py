"""Pull-request review of previews: plan a stack at a git ref and in the working tree, diff the two, say what each
change does to running Flink jobs, render the report (markdown, text, JSON)."""
