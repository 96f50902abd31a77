"""Operations on a deployed topology, through boto3: find it, trigger it, read its logs.

``connection`` reaches AWS (or a local emulator), ``deployment`` finds a topology's
stack(s) and reads its manifest output, ``trigger`` sends input events and ``logs`` reads
the processors' CloudWatch Logs. Nothing here imports ``aws_cdk``.
"""

from __future__ import annotations
