"""What the Neovim face needs from the engine, as pure functions and classes (no pynvim here).

The rplugin glue (``rplugin/python3/remora_host``) only moves data between Neovim and these
functions: buffer anchors before write, per-buffer line maps, panel data, health, hub control.
"""
