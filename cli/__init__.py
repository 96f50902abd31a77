"""attak's command line: thin commands over ``attak_cdk`` (load, validate, call, render)."""
