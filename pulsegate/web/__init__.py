"""Files served to browsers: the scripts sites load, the dashboard and the demo site, prepared once."""
