"""A local Google OAuth 2.0 token endpoint and the bearer check Google's front end applies, so the
gcp tier's credential code (google-auth's service-account flow) runs offline against the emulators.

``keys`` makes service-account key files (the JSON Google's console hands out, its ``token_uri``
pointing here); ``models`` is the :class:`TokenAuthority` that registers their public halves, grants
tokens for signed JWT assertions and judges bearer credentials on the emulators' clock;
``exceptions`` are Google's token-endpoint and 401 errors with where each text was seen;
``services`` says how BigQuery and Cloud KMS name themselves in those 401s; ``guard`` is the ASGI
middleware both emulators put in front of their routes; ``rest`` is the token endpoint's app.
"""

from fakes.google_oauth.keys import ServiceAccountKey, generate_key
from fakes.google_oauth.models import TOKEN_LIFETIME, TokenAuthority

__all__ = ["TOKEN_LIFETIME", "ServiceAccountKey", "TokenAuthority", "generate_key"]
