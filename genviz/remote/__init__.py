"""genviz.remote: the GUI on a laptop, the model on a GPU server.

Server side (``pip install "genviz[remote]"``, Ray Serve): ``genviz.remote.server`` serves the checkpoints of some
folders over HTTP; each chain session is a Ray actor holding one loaded model and the chain machinery the GUI
uses in-process (``genviz.gui.chain_runner.ChainRunner`` over a ``ChainState``, wrapped by
``genviz.remote.session.ChainSession``). Client side (no Ray): ``genviz.remote.client.RemoteClient`` (the standard
library's ``http.client``), the GUI's remote runner (``genviz.remote.gui_runner``) and the CLI's ``--server``.
The wire format (JSON, uint8 previews as base64) is ``genviz.remote.wire``.
"""
