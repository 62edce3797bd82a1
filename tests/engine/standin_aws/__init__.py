"""STAND-IN for the AWS resource provider, for the engine tests only (see standin_aws_provider.py)."""
