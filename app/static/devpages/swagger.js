// Boots Swagger UI from the JSON config embedded in the page (kept out of inline scripts for the CSP).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-config").textContent);
  var token = config.bearerToken;
  delete config.bearerToken;

  // In development the page carries a fresh token for the demo user: every bearer scheme of the
  // document starts authorised with it (winning over one persisted from an earlier visit).
  function preauthorize() {
    var schemes = ui.specSelectors.securityDefinitions();
    if (!token || !schemes) return;
    schemes.forEach(function (scheme, name) {
      if (scheme.get("type") === "http" && String(scheme.get("scheme")).toLowerCase() === "bearer") {
        ui.preauthorizeApiKey(name, token);
      }
    });
  }

  var ui = SwaggerUIBundle(
    Object.assign(config, {
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
      onComplete: preauthorize,
    })
  );
})();
