"""The code that runs inside every processor's Lambda function (and in the simulator).

Standard library and boto3 only, and nothing from the rest of ``attak_cdk``: this package
is copied as it is into each Lambda asset. Modules import each other relatively so the
copy works under any package name.
"""
