// catalog serve: starts Swagger UI on /api/docs. A file, not an inline script, so the page runs
// under the same content security policy as the others (scripts from this server only).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  // Swagger UI would otherwise send the whole document to its public validator for a badge.
  validatorUrl: null,
});
