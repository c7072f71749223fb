"""Documents made from the report JSON for people: a text summary for a terminal and a
print-ready A4 PDF to send upward (`cati report --format text|pdf`)."""
