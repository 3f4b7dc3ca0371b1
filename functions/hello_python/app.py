"""The smallest Python function: cold start and memory of the runtime itself."""


def handler(event, context):
    # The README's tour invokes it with {"name": "you"}; anything else gets the plain greeting.
    name = event.get("name") if isinstance(event, dict) else None
    greeting = f"hello {name}, from python" if isinstance(name, str) else "hello from python"
    return {"message": greeting, "request_id": context.aws_request_id}
