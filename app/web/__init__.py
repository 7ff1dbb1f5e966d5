"""What every page shares: templating and the one render path (templating), the one error path
(errors), fields declared once (fields, field_spec, field_errors), languages (i18n), numbers,
charts, PNG rendering (png), the request-body limit (body) and the dependencies routes take
(deps). It imports nothing from the labs, media or runs."""
