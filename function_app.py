"""The Functions app: wiring only. Every trigger, orchestrator and activity lives in `orchestrations/`."""

import azure.durable_functions as df
import azure.functions as func

from orchestrations import activities, analytics, deadletters, eventgrid, orchestrator, triggers

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(triggers.bp)
app.register_functions(orchestrator.bp)
app.register_functions(activities.bp)
app.register_functions(deadletters.bp)
app.register_functions(analytics.bp)
app.register_functions(eventgrid.bp)
