from tests.storage.fixtures import _s3_session_storage, s3_storage, seaweed_client, seaweed_s3

__all__ = ["_s3_session_storage", "s3_storage", "seaweed_client", "seaweed_s3"]
