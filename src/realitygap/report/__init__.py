"""HTML report: templates and plots."""
