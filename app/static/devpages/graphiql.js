// Boots GraphiQL from the JSON config embedded in the page (kept out of inline scripts for the CSP).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var url = new URL(window.location.pathname, window.location.origin);
  var wsUrl = new URL(url);
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl: wsUrl.toString() });
  var props = {
    fetcher: fetcher,
    defaultQuery: config.exampleQuery,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    inputValueDeprecation: true,
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
  };
  if (config.headers) {
    // A fresh dev token wins over headers persisted from an earlier visit.
    props.headers = config.headers;
    props.defaultHeaders = config.headers;
  }
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
