"""Server configuration for `make demo`: JupyterLab behind the local Clerk instance.

Everything Clerk-specific comes from CLERK_* environment variables, which the demo
launcher sets from what the local instance prints. A real deployment sets the same
variables (or c.ClerkIdentityProvider.* traits) for its own Clerk instance.
"""

c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)

c.ServerApp.jpserver_extensions = {"jupyter_clerk": True}
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.open_browser = False
