"""The GraphiQL page served to browsers at GET /graphql."""

GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Atrium GraphQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL… (it needs to reach unpkg.com; the API itself answers
  POST /graphql without it)</div>
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin
    src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
  <script>
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    const fetcher = GraphiQL.createFetcher({
      url: "/graphql",
      headers: token ? { Authorization: "Bearer " + token } : {},
    });
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: `# Welcome to Atrium. Paste a token after #token= in the URL to act as a user.
{
  datasets(first: 5, orderBy: {field: UPDATED_AT, direction: DESC}) {
    totalCount
    edges { node { accession title accessLevel fileCount totalBytes
                   steward { name } diseases { curie label } } }
  }
}`,
      }),
    );
  </script>
</body>
</html>
"""
