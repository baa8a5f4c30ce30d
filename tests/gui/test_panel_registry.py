"""The panel registry's widget classes (Qt): each implements the panel protocol of genviz.panels."""
from genviz.panels import PANELS


def test_every_panel_class_implements_the_protocol():
    import inspect

    from genviz.panels import PROTOCOL
    assert {"set_model", "run_default", "default_done", "session_state", "restore_session", "shutdown"} <= set(PROTOCOL)
    for spec in PANELS:
        cls = spec.widget_class()
        missing = [m for m in PROTOCOL if not callable(getattr(cls, m, None))]
        assert not missing, f"{spec.key}: {missing}"
        assert "message" in dir(cls)  # the status-bar signal
        assert "batch" in inspect.signature(cls.run_default).parameters
