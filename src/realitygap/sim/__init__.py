"""MuJoCo runner, rig and sensors on one simulation clock."""
