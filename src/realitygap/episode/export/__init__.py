"""`realitygap export`: a dataset's episodes as MCAP (Foxglove), Rerun recordings or a LeRobot dataset.

streams.py reads an episode once into timestamped arrays; one module per format writes them (to_mcap, to_rerun,
to_lerobot); run.py selects the episodes and writes the export atomically; cli.py is the command.
"""
