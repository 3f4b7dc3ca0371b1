import logging

logger = logging.getLogger()


def handler(event, context):
    logger.debug("hidden at INFO")
    logger.info("from logging")
    logger.warning("careful")
    return {"ok": True}
