"""The pages, services and imports that change the administrative tree: divisions and their
community profiles, departments, working groups (ADR 19).

The tree itself (its models) is `civicmark.divisions`, below accounts: role assignments point at
divisions. Every change to the tree asks who may make it (the scope primitives of
`accounts.authz`), so the code that changes it sits here, above both.
"""
