/* Starts Swagger UI on /docs. The page holds no script of its own: the configuration is the
   JSON block #swagger-config (written by app/main.py), read with JSON.parse. */
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle({
    ...config,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
