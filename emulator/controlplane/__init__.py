"""The Lambda control plane (issue 22): CreateFunction and friends, on the Invoke API's port.

    plane.py          ControlPlane: the records, their lifecycle, the way to the registry
    store.py          FunctionRecord and its file in the state directory; code packages
    validation.py     the requests' checks with AWS's messages; the FunctionConfig of a record
    shapes.py         the response bodies (FunctionConfiguration, AliasConfiguration)
    functions_api.py  functions, code, configuration, versions
    aliases_api.py    aliases and their RoutingConfig
    settings_api.py   concurrency, provisioned concurrency, event invoke, account settings
    urls_api.py       function URL configs (the front door serves them)
    policy_api.py     tags and the resource policy (stored, not enforced)

docs/control-plane.md lists every operation and how closely it follows AWS.
"""
