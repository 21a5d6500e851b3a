"""Optical gas imaging: simulation, rendering and analysis of infrared gas-camera video."""
