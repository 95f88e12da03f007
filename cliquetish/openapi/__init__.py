"""The OpenAPI 3.0 document of an application, served at ``GET /v1/__api__``.

:func:`cliquetish.openapi.document.build_document` assembles it from the built-in endpoints the
application routes (:mod:`cliquetish.openapi.builtins`) and from every registered resource
(:mod:`cliquetish.openapi.resources`, :mod:`cliquetish.openapi.operations`), with record schemas
translated from colander (:mod:`cliquetish.openapi.schema`).
"""
