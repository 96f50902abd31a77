"""``attak ui``: a local web page to look at a topology and debug simulation runs.

``view`` turns a topology into placed nodes and edges with their issues (``layout`` does
the placing), ``run`` streams a simulation to the page, ``app`` is the web app and
``server`` serves it on 127.0.0.1. The page itself is ``static/``: plain HTML, CSS and
JavaScript, shipped with the package, needing no network. Importing this package does not
import the web server; ``attak_cdk`` never imports this package.
"""
