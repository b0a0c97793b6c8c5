"""``python -m globalfit.cli`` runs the ``globalfit`` command (e.g. under ``mpiexec``)."""
import sys

from globalfit.cli import main

sys.exit(main())
