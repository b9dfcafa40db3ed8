"""The training service: trainings, attendance, certificates (合格证), imports, the yearly requirement."""
