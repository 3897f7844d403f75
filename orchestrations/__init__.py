"""The binding layer: every trigger, orchestrator and activity of the Functions app.

Each function here is decorated for the Functions host and forwards to plain code in `pipeline/`.
Apart from `function_app.py`, this is the only package that imports `azure.functions` and
`azure.durable_functions`.
"""
