"""The built-in learned world model: a small conditional flow-matching video generator in PyTorch, trained
only on sim episodes, that predicts a clip from the first frames of a context plus its prompt.

- data.py: sim episodes -> 64 x 64 training frames, frame times, MiniLM prompt embeddings.
- model.py: the frame denoiser (U-Net with FiLM conditioning).
- train.py: rectified-flow training under a wall-clock budget, atomic checkpoints, resume, export.
- sample.py: seeded autoregressive sampling of a clip.
- source.py: the `worldmodel` source (`realitygap predict --source worldmodel`).
- cli.py: `realitygap worldmodel train | info`.

The shipped checkpoint (checkpoints/worldmodel.pt) was made by the commands recorded in
checkpoints/recipe.json:

    realitygap simulate SCENARIO --n 60 --seed 1000 --sensors rgb --out worldmodel-data
        (for SCENARIO in drop, bounce, projectile, pendulum, slide)
    realitygap worldmodel train --data worldmodel-data --minutes 19 --threads 1 --seed 0 \\
        --out worldmodel-train.pt --export src/realitygap/worldmodel/checkpoints/worldmodel.pt

Seed 1000 keeps the training contexts apart from `realitygap run`'s (seed 0). Nothing here imports
torch at import time.
"""
