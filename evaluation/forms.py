from django import forms
from django.utils.translation import gettext_lazy as _

from evaluation.models import Expertise, InstrumentFamily


class ProfileForm(forms.Form):
    """Consent and a short musician profile, asked once before the first trial."""

    consent = forms.BooleanField(
        label=_("I agree to take part and to my pseudonymous answers being used for research.")
    )
    expertise = forms.ChoiceField(
        label=_("How would you describe your musical experience?"),
        choices=Expertise.choices,
        widget=forms.RadioSelect,
    )
    plays_instrument = forms.TypedChoiceField(
        label=_("Do you play an instrument or sing?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    instrument = forms.CharField(label=_("Which one(s)?"), max_length=100, required=False)
    years_playing = forms.IntegerField(
        label=_("How many years have you played?"), min_value=0, max_value=100, required=False
    )
    genres = forms.CharField(
        label=_("Main genres you play or listen to"), max_length=200, required=False
    )
    instrument_family = forms.ChoiceField(
        label=_("Your main instrument's family"),
        choices=InstrumentFamily.choices,
        required=False,
    )
    languages = forms.CharField(
        label=_("Languages you understand well (comma-separated)"), max_length=100, required=False
    )

    def __init__(self, *args, member=None, **kwargs):
        """With a roster `member` (a personal invite) the roster already says who they are:
        only consent is asked."""
        super().__init__(*args, **kwargs)
        self.member = member
        if member is not None:
            for name in list(self.fields):
                if name != "consent":
                    del self.fields[name]

    def profile(self) -> dict:
        data = self.cleaned_data
        if self.member is not None:
            return {"expertise": self.member.expertise}  # the roster wins (services.panelists)
        return {
            "expertise": data["expertise"],
            "plays_instrument": data["plays_instrument"],
            "instrument": data["instrument"] if data["plays_instrument"] else "",
            "years_playing": data["years_playing"] if data["plays_instrument"] else None,
            "genres": data["genres"],
            "instrument_family": data["instrument_family"],
            "languages": data["languages"],
        }
