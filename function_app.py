"""The Functions app: wiring only. Every trigger, orchestrator and activity lives in `orchestrations/`."""

import azure.durable_functions as df
import azure.functions as func

from orchestrations import activities, analytics, deadletters, eventgrid, health, orchestrator, reconcile, triggers
from pipeline.observability import TelemetryConfig, configure_observability
from pipeline.settings import Settings

_settings = Settings.from_env()
configure_observability(
    log_level=_settings.log_level,
    console=False,
    telemetry=TelemetryConfig(
        connection_string=_settings.appinsights_connection_string,
        authentication_string=_settings.appinsights_authentication_string,
        trace_azure_sdk=_settings.trace_azure_sdk,
    ),
)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(triggers.bp)
app.register_functions(orchestrator.bp)
app.register_functions(activities.bp)
app.register_functions(deadletters.bp)
app.register_functions(analytics.bp)
app.register_functions(eventgrid.bp)
app.register_functions(health.bp)
app.register_functions(reconcile.bp)
