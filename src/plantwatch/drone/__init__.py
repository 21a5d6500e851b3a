"""Drone inspection of chemical plants: site model, camera, planner, coverage, exports."""
