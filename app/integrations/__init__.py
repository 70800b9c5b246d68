"""HTTP clients of the services the CMS talks to. Nothing Flask in here: services hand them
their settings (`MakeConfig.from_settings(current_app.config)`)."""
