"""`jupyter clerk …`: commands for operators (the `jupyter-clerk` console script)."""
