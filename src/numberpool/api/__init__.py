"""The wire: routes, api-versions, authentication and the exact ACS JSON shapes."""
