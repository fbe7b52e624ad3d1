"""Jobs: validate every input, fit each model once, then write once (build, then publish).

One module per command: :mod:`.reproduce` (the main job), :mod:`.paper`,
:mod:`.multisource`, :mod:`.gmm` and :mod:`.fit`; :mod:`.fitdir` reads and writes a fit
directory and :mod:`.report` writes or re-renders a report. Estimators and renderers
below this layer write no files.
"""

from __future__ import annotations
