from django.urls import path, re_path

from evaluation.views import headphones, listener, research

listener_patterns = (
    [
        path("<str:token>/", listener.listen, name="listen"),
        path("<str:token>/t/<str:trial_token>/answer", listener.answer, name="answer"),
        path("<str:token>/t/<str:trial_token>/ahead", listener.ahead, name="ahead"),
        path("<str:token>/resume", listener.resume, name="resume"),
        path("<str:token>/r/<str:code>", listener.resume_link, name="resume-link"),
        path("<str:token>/pause", listener.pause, name="pause"),
        path("<str:token>/headphones", headphones.answer, name="headphones"),
        path("<str:token>/h/<str:item_token>", headphones.audio, name="headphones-audio"),
        re_path(
            r"^(?P<token>[\w-]+)/t/(?P<trial_token>[\w-]+)/(?P<side>[a-j])$",
            listener.audio,
            name="audio",
        ),
    ],
    "listener",
)

research_patterns = (
    [
        path("<slug:slug>/results/", research.results, name="results"),
        path("<slug:slug>/dashboard/", research.dashboard, name="dashboard"),
        path("<slug:slug>/report.html", research.report_download, name="report-download"),
        path("stimuli/<int:pk>/audio", research.stimulus_audio, name="stimulus-audio"),
    ],
    "research",
)
