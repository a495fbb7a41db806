"""docframe's benchmark runner (``python -m bench``); see bench/README.md."""
