"""``attak ui``: a local web page to look at a topology, debug simulation runs, and watch
its deployment.

``view`` turns a topology into placed nodes and edges with their issues (``layout`` does
the placing), ``run`` streams a simulation to the page (``worker`` runs each one in a
process of its own, so it can be stopped and sees handlers as last saved), ``live`` reads
the deployed topology's metrics and logs for the Live tab, ``app`` is the web app and
``server`` serves it on 127.0.0.1. The page itself is ``static/``: plain HTML, CSS and
JavaScript, shipped with the package, needing no network. Importing this package does not
import the web server; ``attak_cdk`` never imports this package.
"""
