"""`GET /clerk/api/user`: the signed-in person's name and picture, for the top bar.

From the session token's claims when the instance puts them there, else from the Backend
API's user (the local instance and most Clerk instances), through the per-person profile cache:
a page load never costs a Backend API call of its own.
"""

from __future__ import annotations

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..identity.provider import ClerkUser


class UserProfileHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        user: ClerkUser = self.current_user
        # Jupyter fills an empty name with the username (here the Clerk user id).
        name = user.name if user.name != user.username else ""
        image_url = user.avatar_url
        profiles = getattr(self.identity_provider, "profiles", None)
        if profiles is not None and not (name and image_url):
            clerk_user = await profiles.profile(user.username)
            if clerk_user is not None:
                full_name = " ".join(p for p in (clerk_user.first_name, clerk_user.last_name) if p)
                name = name or full_name or clerk_user.username or ""
                image_url = image_url or clerk_user.image_url or None
        self.finish({"id": user.username, "name": name or user.username, "image_url": image_url})
