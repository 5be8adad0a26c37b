import logging


def test_uvicorn_handshake_logs_never_show_the_token(caplog):
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/ws/v1/stream?token=s3cr3t-value&x=1")
    assert "s3cr3t-value" not in caplog.text
    assert "/ws/v1/stream?token=[redacted]&x=1" in caplog.text
