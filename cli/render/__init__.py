"""Everything the CLI prints, one module per concern.

Human output goes through rich, which drops colour for NO_COLOR and when output is not a
terminal. User data is escaped before it reaches rich's markup.

- ``console``: where output goes (stdout, stderr), JSON and YAML documents, and the small
  formatters every renderer shares (``preview``, ``plural``);
- ``tables``: the borderless table every listing uses;
- ``problems``: attak errors and a topology's issues, on stderr;
- ``project``: ``validate`` and ``init``;
- ``graph``: ``graph`` as text, Mermaid or Graphviz dot;
- ``simulate``: the trace of invocations and the run's summary;
- ``review``: ``synth``'s review of the synthesized stacks;
- ``deployment``: warnings about what is deployed;
- ``trigger`` and ``logs``: events sent to a deployment, and its processors' logs;
- ``plan``: capacity and monthly cost.
"""
