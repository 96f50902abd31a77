"""Local engines that run a topology through the same runtime code Lambda runs."""
