"""storage.s3Compatible: an existing bucket on MinIO/Ceph/on-prem instead of AWS. Bad input is refused with the key
path and the fix; the AWS-only knobs cannot be set by mistake."""

from __future__ import annotations

import copy

import pytest

from flinkplat.config.errors import ConfigError
from flinkplat.config.load import load_stack, load_stack_file
from flinkplat.config.models import endpoint_port
from tests.conftest import ROOT, stack_document

MINIO = {"endpoint": "http://minio.minio.svc:9000", "bucket": "flink-dev", "credentialsSecret": {"name": "minio-flink"}}


def _load(document: dict):
    values = {k: v for k, v in document["config"].items()}
    return load_stack("test", values, set())


def _problems(document: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(document)
    return [str(p) for p in caught.value.problems]


def _with_storage(storage: dict, stack: str = "dev") -> dict:
    document = copy.deepcopy(stack_document(stack))
    document["config"]["flink-platform:storage"] = storage
    return document


def test_dev_stack_uses_an_s3_compatible_store_with_defaults():
    store = _load(stack_document("dev")).config.storage.s3_compatible
    assert store is not None
    assert store.path_style_access is True
    assert (store.credentials_secret.access_key_id_key, store.credentials_secret.secret_access_key_key) == \
        ("access-key", "secret-key")
    assert store.port == 9000


@pytest.mark.parametrize("endpoint, port", [("http://minio:9000", 9000), ("https://s3.example.com", 443),
                                            ("http://ceph-rgw.storage.svc", 80), ("https://10.0.0.5:8443/", 8443)])
def test_endpoint_port(endpoint, port):
    assert endpoint_port(endpoint) == port


def test_both_or_neither_kind_of_storage_is_refused():
    both = _problems(_with_storage({"bucketPrefix": "acme", "s3Compatible": MINIO}))
    neither = _problems(_with_storage({}))
    for problems in (both, neither):
        assert len(problems) == 1
        assert problems[0].startswith("flink-platform:storage: ")
        assert "set exactly one of 'bucketPrefix'" in problems[0] and "'s3Compatible'" in problems[0]


@pytest.mark.parametrize("endpoint", ["minio:9000", "ftp://minio:9000", "http://minio:9000/flink", "http://"])
def test_endpoint_must_be_a_url_without_path(endpoint):
    problems = _problems(_with_storage({"s3Compatible": {**MINIO, "endpoint": endpoint}}))
    assert len(problems) == 1
    assert problems[0].startswith("flink-platform:storage.s3Compatible.endpoint: ")
    assert "write it like http://minio.minio.svc:9000" in problems[0]


def test_bucket_name_and_secret_keys_are_checked():
    problems = _problems(_with_storage({"s3Compatible": {
        **MINIO, "bucket": "Flink_Dev", "credentialsSecret": {"name": "minio-flink", "accessKeyIdKey": "access key"}}}))
    assert any(p.startswith("flink-platform:storage.s3Compatible.bucket: 'Flink_Dev' is not a bucket name") for p in problems)
    assert any(p.startswith("flink-platform:storage.s3Compatible.credentialsSecret.accessKeyIdKey: ") for p in problems)


def test_plaintext_keys_have_no_place_in_the_stack_file():
    problems = _problems(_with_storage({"s3Compatible": {**MINIO, "accessKey": "minioadmin"}}))
    assert len(problems) == 1 and problems[0].startswith("flink-platform:storage.s3Compatible.accessKey: unknown key")


def test_aws_bucket_knobs_are_refused_with_an_existing_bucket():
    problems = _problems(_with_storage({"s3Compatible": MINIO, "forceDestroy": True, "savepointExpirationDays": 30}))
    assert len(problems) == 1
    assert "savepointExpirationDays, forceDestroy only apply to the AWS buckets the stack creates" in problems[0]


def test_kms_key_is_refused_with_an_existing_bucket():
    document = _with_storage({"s3Compatible": MINIO})
    document["config"]["flink-platform:regions"][0]["kmsKeyArn"] = "arn:aws:kms:us-east-1:111122223333:key/abc"
    assert _problems(document) == [
        "flink-platform:regions[0].kmsKeyArn: kmsKeyArn of region 'us-east-1' encrypts the AWS bucket the stack "
        "creates, but storage.s3Compatible uses an existing bucket the stack does not manage; remove kmsKeyArn "
        "(configure encryption on the object store)"]


def test_prod_keeps_aws_buckets():
    storage = load_stack_file(ROOT / "Pulumi.prod.yaml").config.storage
    assert storage.bucket_prefix == "acme-flink" and storage.s3_compatible is None
