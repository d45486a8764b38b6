"""Forms: one WTForms class per form, rendered by the macros in ``_macros/form.html``.

Forms parse and render; rules that need the database live in the services, which raise
``Invalid``; ``attach_errors`` shows those reasons next to the fields they name.
"""

from .account import (DeleteForm, EmailForm, EmptyForm, ForgotForm, LoginForm,  # noqa: F401
                      OAuthEmailForm, PasswordForm, ResetForm, SignupForm)
from .core import attach_errors, stored_image  # noqa: F401
from .discover import DiscoverForm, ReportForm  # noqa: F401
from .groups import IMAGE_SLOTS, GroupForm  # noqa: F401
from .notifications import MarkReadForm, NotificationPrefsForm  # noqa: F401
from .onboarding import CityStepForm, StarterForm, StylesStepForm  # noqa: F401
from .profile import ProfileForm, ProfileImageForm  # noqa: F401
from .site import ContactForm, PageForm, SettingsForm, block_form  # noqa: F401
from .vlogs import CommentForm, VlogForm  # noqa: F401
