"""The admin API's contract, without Flask: marshmallow schemas, operations, OpenAPI."""
