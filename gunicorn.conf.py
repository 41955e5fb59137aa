"""gunicorn settings, read by every web process (`make run` and the Procfile).

The access log leaves out query strings and the referrer: a client that
puts a token or a phone number in a URL must not see it in the log.
"""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
