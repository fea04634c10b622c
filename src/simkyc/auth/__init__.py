"""Who is calling: principals and their API keys (`models`), the `Actor` every service takes
and the role checks on it (`actors`), and turning a bearer token into an Actor (`keys`).
Account administration (creating operators, principals, keys) is `simkyc.registry.accounts`."""
