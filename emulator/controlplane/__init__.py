"""The Lambda control plane (issue 22): CreateFunction and friends, on the Invoke API's port.

    plane.py          ControlPlane: the records, their lifecycle, the way to the registry
    store.py          FunctionRecord and its file in the state directory; code packages
    validation.py     the requests' checks with AWS's messages; the FunctionConfig of a record
    shapes.py         the response bodies (FunctionConfiguration, AliasConfiguration)
    functions_api.py  functions, code, configuration, versions, aliases
    settings_api.py   concurrency, provisioned concurrency, event invoke, URLs, tags, policy,
                      account settings

docs/control-plane.md lists every operation and how closely it follows AWS.
"""
