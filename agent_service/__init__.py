"""The BestBox agent API, instrumented from the stackgen metric catalog."""
