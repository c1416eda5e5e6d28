from django import forms
from django.utils.translation import gettext_lazy as _

from evaluation.models import Expertise


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

    def profile(self) -> dict:
        data = self.cleaned_data
        return {
            "expertise": data["expertise"],
            "plays_instrument": data["plays_instrument"],
            "instrument": data["instrument"] if data["plays_instrument"] else "",
            "years_playing": data["years_playing"] if data["plays_instrument"] else None,
            "genres": data["genres"],
        }
