"""One module per resource, each with its pages (`router`) and its JSON routes under /api (`api`), the view that
both answer with, and the resource's writes; its templates are in web/templates/<resource>/.

A new page goes in the module of its resource (or a new module, added to the list in web/app.py); what every
page shares is in web/responses.py (render, flash, cached JSON) and web/views.py (zone and chain, diagnosis).
"""
