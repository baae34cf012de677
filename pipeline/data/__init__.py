"""The data readers, shared by the fetch stage and by ``predict``.

``sources`` (the ``data.source`` schemes and their identities), ``idx`` (IDX
files), ``openml`` (the download) and ``rawdata`` (the arrays a source
returns). Never imports ``stages``, ``plugins`` or the CLI.
"""
