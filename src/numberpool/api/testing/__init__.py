"""Testing mode (`serve --testing`): the control endpoints under `/_numberpool/` and the fault hook."""
