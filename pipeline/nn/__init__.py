"""The network's math, shared by the train, evaluate and export stages and by ``predict``.

``network`` (forward pass, loss, gradients), ``minibatch`` (one step on
preallocated buffers), ``epochs`` (the epoch loops) and ``blas`` (BLAS thread
choice with unchanged bits). Never imports ``stages``, ``plugins`` or the CLI.
"""
