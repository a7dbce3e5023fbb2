"""The shared vocabulary every layer may import; it imports nothing else of realitygap.

`mj` is the one MuJoCo import, `camera` the pinhole model in the OpenCV convention (and its conversion
from MuJoCo cameras), `rig` the rig configuration, `fitting` the law-fitting machinery and the
measured-track type.
"""
