"""``attak plan``: the capacity and monthly cost of a topology at a given load.

``assumptions`` reads what a plan is given (the topology's ``plan:`` section and the
command line), ``load`` pushes the rates through the graph and sizes each stream's shards,
``prices`` reads a dated price table, and ``cost.plan_topology`` puts them together into
a ``result.Plan``. ``shards`` gives ``shards: auto`` streams their planned count and warns
where declared shards fall short. Nothing here imports ``aws_cdk``.
"""
