"""`python -m pipeline soak` (`make soak`): a long generated stream through the whole local pipeline.

It shows whether the pipeline stays flat for as long as it runs: a generated real-time stream goes
through `python -m pipeline run --via eventhub` in a process of its own, while this process samples
it every few seconds (throughput, the memory of every process from /proc, batches in flight, dead
letters, Cosmos DB requests per event). At the end the run is checked against an independent
computation of what it must store and aggregate, and judged: throughput in the last tenth against
the first, memory after the first tenth against the first tenth, the local Cosmos DB server's own
slope (the bare-upsert floor before and after) apart from the pipeline's.

    procfs.py    reading a process tree's memory from /proc
    expected.py  what the stream must produce, computed apart from the pipeline's code
    verdict.py   flat or not: throughput tenths, memory growth, the server's slope
    chart.py     events/s and memory over time
    command.py   the whole soak: generate, floor, run and sample, floor, check, report
"""
