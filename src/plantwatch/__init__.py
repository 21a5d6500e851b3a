"""plantwatch: safety inspection of chemical plants.

Two halves share one package: infrared gas-leak analysis (``plantwatch.gas``) and drone
inspection planning (``plantwatch.drone``), over shared geometry (``plantwatch.geometry``).
"""

__version__ = "0.1.0"
